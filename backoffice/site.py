"""The admin site: Django's, with a throttled login and change lists that refuse what SQLite cannot run.

Every ModelAdmin registered here (ours, Django's users and groups, DRF's tokens) gets `SafeLists`
(core.admin), so no list answers 500 to a hostile query string on `make run`'s SQLite.
"""

from django.contrib import admin

from core.admin import SafeLists
from web.forms.login import AdminLoginForm


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm  # throttled like /login/

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeLists):
            admin_class = type(admin_class.__name__, (SafeLists, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)
