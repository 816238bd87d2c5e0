from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")
    default = True


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, whose `admin.site` is ours (site.AdminSite)."""

    default = False  # installed by its path, in place of django.contrib.admin
    default_site = "backoffice.site.AdminSite"
