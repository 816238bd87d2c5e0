"""The admin site: Django's, with a throttled login and change lists that refuse what SQLite cannot run.

Every ModelAdmin registered here (ours, Django's users and groups, DRF's tokens) gets `SafeLists`,
so no list answers 500 to a hostile query string on `make run`'s SQLite: SQLite cannot bind an
integer past 2**63 - 1 (PostgreSQL finds no row) and refuses a LIKE pattern of more than 50,000
bytes. A filter value out of range is Django's own answer to a bad filter (the list again, with
?e=1); a search is cut to the longest text it could match.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from audit.forms import AdminLoginForm
from core.limits import MAX_ID, SEARCH_LENGTH


def out_of_range(value: str) -> bool:
    """Whether `value` is written as an integer that no 64-bit column holds."""
    digits = value[1:] if value[:1] in "+-" else value
    return digits.isascii() and digits.isdigit() and (len(digits) > 19 or int(digits) > MAX_ID)


class SafeChangeList(ChangeList):
    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        if any(out_of_range(value) for values in params.values() for value in values):
            raise IncorrectLookupParameters("An id out of range.")
        return params

    def get_queryset(self, request, exclude_parameters=None):
        self.query = self.query.replace("\x00", "")[:SEARCH_LENGTH]
        return super().get_queryset(request, exclude_parameters)


class SafeLists:
    """A ModelAdmin mixin: its change list refuses ids out of range and cuts the search text."""

    def get_changelist(self, request, **kwargs):
        return SafeChangeList


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm  # throttled like /login/ (audit.forms)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeLists):
            admin_class = type(admin_class.__name__, (SafeLists, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)
