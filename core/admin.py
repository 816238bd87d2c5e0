"""The admin's bases, for any model: refusals of services shown on the form, team scoping, read-only
admins, and change lists that refuse what SQLite cannot run.

`ScopedAdmin` (and the `Scoped` mixin of inlines) shows a user who does not see everything only
the rows of the model's visibility selector; `ServiceAdmin` adds saves through services, whose
refusals show on the form or inline row they belong to.
"""

from contextlib import contextmanager

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import ForeignKey
from django.http import Http404, HttpResponseRedirect

from .errors import error_message
from .limits import MAX_ID, SEARCH_LENGTH
from .roles import sees_everything

# An action offered both above the change list and on the object's page.
BOTH_PAGES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


# --- Refusals of services, shown on the form ---------------------------------

_REFUSAL = "_admin_refusal"


class Refusal(Exception):
    """A service's ValidationError raised while saving, and the prefix of the form it belongs to.

    The prefix of the admin's main form is None; an inline row's is e.g. "time_entries-0".
    """

    def __init__(self, error: ValidationError, prefix: str | None = None):
        super().__init__(error)
        self.error = error
        self.prefix = prefix


@contextmanager
def refused_on(form):
    """Re-raise a ValidationError of the block as a Refusal shown on `form`."""
    try:
        yield
    except ValidationError as error:
        raise Refusal(error, form.prefix) from error


def add_refusal(form, error: ValidationError) -> None:
    """Add `error` to `form`: on the visible field it names, else above the fields."""
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
    for field, errors in items:
        if field not in form.fields or form[field].is_hidden:
            field = None
        form.add_error(field, errors)


def _formset_with_refusal(formset_class, refusal: Refusal):
    class RefusedFormSet(formset_class):
        def clean(self):
            super().clean()
            for form in self.forms:
                if form.prefix != refusal.prefix:
                    continue
                if self.can_delete and self._should_delete_form(form):
                    # Errors of a row marked for deletion are not shown: say it above the rows.
                    raise ValidationError(refusal.error.messages)
                add_refusal(form, refusal.error)

    return RefusedFormSet


# --- Team scoping: the screens' and the API's visibility selectors, in the admin ---------------

def scope_of(admin_site, model):
    """Return the visibility selector of `model`'s admin, or None when every row is visible."""
    try:
        return getattr(admin_site.get_model_admin(model), "scope", None)
    except NotRegistered:
        return None


def in_scope(queryset, scope, user):
    """Return the rows of `queryset` that `scope(user=user)` lets `user` see.

    Managers, accountants and superusers see everything, as the selectors say: their
    queries stay as they were.
    """
    if scope is None or sees_everything(user):
        return queryset
    # By primary key, so the selector's joins and select_related stay out of the admin's query.
    return queryset.filter(pk__in=scope(user=user).values("pk"))


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter by a related object that lists only the objects the user may see.

    Those of the related model's scope; for a model without one (users), those the
    listed rows refer to.
    """

    def field_choices(self, field, request, model_admin):
        if sees_everything(request.user):
            return super().field_choices(field, request, model_admin)
        scope = scope_of(model_admin.admin_site, field.related_model)
        if scope is None:
            visible = model_admin.get_queryset(request).values(f"{self.field_path}__pk")
        else:
            visible = scope(user=request.user).values("pk")
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": visible}, ordering=ordering)


class Scoped:
    """Team scoping of a ModelAdmin or an inline, for users who do not see everything (agents).

    `scope` is the model's visibility selector, the one the screens and the API use,
    called as `scope(user=user)`; an inline without one takes its model's admin's. The
    rows listed, opened and shown as inline rows are those of the scope. The choices of
    a relation (forms, inlines, and through the related admin's rows the autocomplete)
    are those of the related model's admin's scope, or of `field_scopes[field name]`.
    """

    scope = None
    field_scopes = {}

    def get_queryset(self, request):
        return in_scope(super().get_queryset(request), self.scope or scope_of(self.admin_site, self.model),
                        request.user)

    def get_field_queryset(self, db, db_field, request):
        queryset = super().get_field_queryset(db, db_field, request)
        scope = self.field_scopes.get(db_field.name) or scope_of(self.admin_site, db_field.related_model)
        if scope is None or sees_everything(request.user):
            return queryset
        if queryset is None:
            queryset = db_field.related_model._default_manager.using(db)
        return in_scope(queryset, scope, request.user)


class ScopedAdmin(Scoped, admin.ModelAdmin):
    """A ModelAdmin whose every list, page, choice and filter keeps to the user's scope (see `Scoped`)."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django's answer for a missing object in the change, delete and history views is a
        # redirect to the index saying it does not exist. A row of another team is missing to
        # the user; every missing row answers 404, so no answer tells it from an absent one.
        raise Http404(f"No such {opts.verbose_name}.")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or sees_everything(request.user):
            return form
        # What the object points at stays a choice, even out of the user's scope (a task's
        # Sales Order Item that no ticket of theirs bills): saving it unchanged keeps it.
        for name, field in form.base_fields.items():
            try:
                db_field = obj._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            current = getattr(obj, db_field.attname, None) if isinstance(db_field, ForeignKey) else None
            if current is not None and isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset | db_field.related_model._base_manager.filter(pk=current).order_by()
        return form

    def get_list_filter(self, request):
        # A filter by a related object lists only those in the user's scope.
        return [(item, ScopedRelatedFilter) if isinstance(item, str)
                and get_fields_from_path(self.model, item)[-1].is_relation else item
                for item in super().get_list_filter(request)]


class ServiceAdmin(ScopedAdmin):
    """A ModelAdmin whose saves call services: what they refuse shows on the form, never as a 500.

    A save that raises ValidationError (or a `Refusal` naming an inline row)
    leaves the view's transaction, which rolls everything back. The same POST
    is then processed once more with the refusal added to the form or row it
    belongs to: that makes the forms invalid, so nothing is saved, and the page
    comes back with the user's input and the message where it belongs.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refusal as error:
            refusal = error
        except ValidationError as error:
            refusal = Refusal(error)
        setattr(request, _REFUSAL, refusal)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (Refusal, ValidationError) as error:
            # Refused again although the forms carried the first refusal: say it, keep nothing.
            error = error.error if isinstance(error, Refusal) else error
            self.message_user(request, error_message(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        finally:
            delattr(request, _REFUSAL)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None or refusal.prefix is not None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                add_refusal(self, refusal.error)
                return cleaned_data

        return RefusedForm

    def get_formsets_with_inlines(self, request, obj=None):
        refusal = getattr(request, _REFUSAL, None)
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            if refusal is not None and refusal.prefix is not None:
                formset = _formset_with_refusal(formset, refusal)
            yield formset, inline


# --- Read-only: documents and logs --------------------------------------------

class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that only shows: documents and logs are never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(Scoped, admin.TabularInline):
    """Rows of a document shown on another's page, in the user's scope, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Change lists that SQLite can run -------------------------------------------
# SQLite cannot bind an integer past 2**63 - 1 (PostgreSQL finds no row) and refuses a LIKE
# pattern of more than 50,000 bytes. A filter value out of range is Django's own answer to a
# bad filter (the list again, with ?e=1); a search is cut to the longest text it could match.

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
