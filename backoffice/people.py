"""Fields that choose people (a team's members, a ticket's assignee, whose time an entry is): the admin's
autocomplete, asking the model admin's own search rather than the users' admin.

Django's autocomplete asks the admin of the related model, and only answers those who may view it: managers
and team leads may not open the users' admin, yet pick agents. Here the page holds the chosen people only
(a select of everyone grows with the staff), and `<admin>/people/?field_name=&term=` lists the rest from the
very queryset the form field validates against, to those who may add or change the model (403 otherwise).
"""

from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from core.limits import SEARCH_LENGTH

PER_PAGE = 20


class _AskTheModelAdmin:
    def get_url(self):
        opts = self.source_opts
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_people")


class PersonSelect(_AskTheModelAdmin, AutocompleteSelect):
    pass


class PeopleSelect(_AskTheModelAdmin, AutocompleteSelectMultiple):
    pass


class PeopleSearch:
    """A ModelAdmin mixin: the fields named in `people_fields` choose people by autocomplete (module docstring)."""

    people_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.people_fields:
            widget = (PeopleSelect if db_field.many_to_many else PersonSelect)(db_field, self.admin_site)
            widget.source_opts = self.model._meta
            widget.choices = field.choices
            field.widget = widget
        return field

    def get_urls(self):
        opts = self.model._meta
        people = path("people/", self.admin_site.admin_view(self.people_view),
                      name=f"{opts.app_label}_{opts.model_name}_people")
        return [people, *super().get_urls()]

    def people_view(self, request):
        """A page of the people the field `field_name` accepts whose username or name holds `term`, as the
        admin's autocomplete answers."""
        name = request.GET.get("field_name", "")
        if name not in self.people_fields:
            raise Http404(_("No such field."))
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        field = self.formfield_for_dbfield(self.model._meta.get_field(name), request)
        term = request.GET.get("term", "").replace("\x00", "")[:SEARCH_LENGTH].strip()
        people = field.queryset
        if term:
            people = people.filter(Q(username__icontains=term) | Q(first_name__icontains=term)
                                   | Q(last_name__icontains=term))
        page = Paginator(people.distinct().order_by("username", "pk"), PER_PAGE).get_page(request.GET.get("page"))
        return JsonResponse({"results": [{"id": str(user.pk), "text": field.label_from_instance(user)}
                                         for user in page],
                             "pagination": {"more": page.has_next()}})
