"""The searchable select: a <select> of the chosen option only, whose other choices are asked of the server."""

from django import forms
from django.utils.translation import gettext as _

from core.limits import MAX_ID

from ..lookups import KINDS, lookup_url


def record_ids(values) -> list[int]:
    """The values that are record ids: a hostile "abc" or 10**30 is no option, nor a database error."""
    ids = []
    for value in values:
        value = str(value)
        if 0 < len(value) <= 19 and value.isascii() and value.isdigit() and int(value) <= MAX_ID:
            ids.append(int(value))
    return ids


def lookup_texts() -> dict[str, str]:
    """What static/js/lookup.js says, in the reader's language (CSP forbids an inline script: data- attributes)."""
    return {"data-text-more": _("More…"), "data-text-none": _("No match"), "data-text-search": _("Type to search")}


class Lookup(forms.Select):
    """A ModelChoiceField's <select> holding the empty option and the chosen one, with `data-lookup`: the
    address static/js/lookup.js asks for the others as the user types. Without the script the chosen option
    stays, and the empty one.

    The field's queryset stays every row it accepts (web.lookups.KINDS[kind].rows), so a POST of any of them
    is valid; the page no longer grows with them. `of` is the object a dependent list is of (a ticket).
    """

    def __init__(self, kind: str, attrs=None):
        assert kind in KINDS, kind
        super().__init__(attrs)
        self.kind = kind
        self.of = None

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-lookup"] = lookup_url(self.kind, self.of)
        attrs.update(lookup_texts())
        return attrs

    def optgroups(self, name, value, attrs=None):
        field = self.choices.field
        options = []
        if field.empty_label is not None:
            options.append(self.create_option(name, "", field.empty_label, not record_ids(value), 0))
        chosen = record_ids(value)
        if chosen:
            for row in self.choices.queryset.filter(pk__in=chosen[:1]):
                options.append(self.create_option(name, row.pk, field.label_from_instance(row), True, len(options)))
        return [(None, options, 0)]
