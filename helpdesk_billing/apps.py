from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, whose `admin.site` is ours (admin_site.AdminSite)."""

    default_site = "helpdesk_billing.admin_site.AdminSite"
