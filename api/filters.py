"""The lists' query parameters (`?customer=3&state=posted`); `?ordering=` is each viewset's.

Every filter on a related record takes its id, a whole number from 1 to MAX_ID (`IdFilter`):
a decimal or a larger number is refused with a 400 rather than sent to the database.
`?search=` (tickets, customers, timesheets) goes through the domain's search selector, as the screens'
search boxes do; its text is never refused: NUL characters are dropped, the rest cut to SEARCH_LENGTH.
"""

from django import forms
from django_filters import rest_framework as filters

from core.limits import MAX_ID, SEARCH_LENGTH, searchable
from invoicing.models import Invoice, PaymentState
from invoicing.payments import overdue_invoices
from projects.models import Project, Task
from sales.models import Customer, SaleOrder
from sales.selectors import customers_search
from tickets.models import Ticket
from tickets.selectors import tickets_search
from timesheets.models import TimeEntry
from timesheets.selectors import time_entries_search


class IdFilter(filters.NumberFilter):
    """Filter on a related record's id (a whole number from 1 to MAX_ID, not a decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class SearchField(forms.CharField):
    """A search's text as core.limits.searchable gives it: what PostgreSQL could not take is dropped, not refused."""

    def to_python(self, value):
        return searchable(super().to_python(value))


class SearchFilter(filters.CharFilter):
    """`?search=`: the text the domain's search selector (`search`) looks for; empty: no filter."""

    field_class = SearchField

    def __init__(self, search, help_text: str):
        self.search = search
        super().__init__(method=self.apply, help_text=f"{help_text} Case-insensitive; `%` and `_` match "
                                                      f"themselves; the first {SEARCH_LENGTH} characters count.")

    def apply(self, queryset, name, value):
        return self.search(queryset, value)


class ProjectFilter(filters.FilterSet):
    customer = IdFilter()
    sale_line = IdFilter()

    class Meta:
        model = Project
        fields = ["customer", "billable", "sale_line"]


class TaskFilter(filters.FilterSet):
    project = IdFilter()
    sale_line = IdFilter()

    class Meta:
        model = Task
        fields = ["project", "sale_line"]


class TicketFilter(filters.FilterSet):
    search = SearchFilter(tickets_search, 'Tickets whose title, description or customer\'s name holds this text, '
                                          'or whose number it is ("12" or "#12").')
    team = IdFilter()
    customer = IdFilter()
    assignee = IdFilter()
    task = IdFilter()
    sale_line = IdFilter()
    order = IdFilter(field_name="sale_line__order", help_text="Tickets whose Sales Order Item is a line of this "
                                                              "sales order.")

    class Meta:
        model = Ticket
        fields = ["search", "team", "customer", "status", "assignee", "task", "sale_line", "order"]


class TimeEntryFilter(filters.FilterSet):
    search = SearchFilter(time_entries_search, "Entries whose description holds this text.")
    ticket = IdFilter()
    task = IdFilter()
    sale_line = IdFilter()
    user = IdFilter()
    work_type = IdFilter()
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")
    invoiced = filters.BooleanFilter(field_name="invoice_line", lookup_expr="isnull", exclude=True,
                                     help_text="true: on a live invoice; false: not invoiced.")
    approval = filters.ChoiceFilter(choices=TimeEntry.Approval.choices)
    written_off = filters.BooleanFilter(help_text='true: "No charge", written off an invoice.')

    class Meta:
        model = TimeEntry
        fields = ["search", "ticket", "task", "sale_line", "user", "work_type", "date_from", "date_to", "invoiced",
                  "approval", "written_off"]


class CustomerFilter(filters.FilterSet):
    search = SearchFilter(customers_search, "Customers whose name holds this text.")

    class Meta:
        model = Customer
        fields = ["search", "name", "vat_number", "country"]


class SaleOrderFilter(filters.FilterSet):
    customer = IdFilter()

    class Meta:
        model = SaleOrder
        fields = ["customer", "state"]


class InvoiceFilter(filters.FilterSet):
    customer = IdFilter()
    sale_order = IdFilter()
    refers = IdFilter()
    payment_state = filters.ChoiceFilter(choices=PaymentState.choices)
    overdue = filters.BooleanFilter(method="filter_overdue",
                                    help_text="true: posted invoices past their due date, not paid in full; false: "
                                              "the others.")

    class Meta:
        model = Invoice
        fields = ["customer", "sale_order", "refers", "kind", "state", "payment_state", "overdue"]

    def filter_overdue(self, queryset, name, value):
        # The Overdue list's own rule (invoicing.payments.overdue_invoices), as a subquery.
        overdue = overdue_invoices().order_by().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)
