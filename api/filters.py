"""The lists' query parameters (`?customer=3&state=posted`); `?ordering=` is each viewset's.

Every filter on a related record takes its id, a whole number from 1 to MAX_ID (`IdFilter`):
a decimal or a larger number is refused with a 400 rather than sent to the database.
"""

from django import forms
from django_filters import rest_framework as filters

from core.limits import MAX_ID
from invoicing.models import Invoice, PaymentState
from invoicing.payments import overdue_invoices
from projects.models import Project, Task
from sales.models import SaleOrder
from tickets.models import Ticket
from timesheets.models import TimeEntry


class IdFilter(filters.NumberFilter):
    """Filter on a related record's id (a whole number from 1 to MAX_ID, not a decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


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
    team = IdFilter()
    customer = IdFilter()
    assignee = IdFilter()
    task = IdFilter()
    sale_line = IdFilter()

    class Meta:
        model = Ticket
        fields = ["team", "customer", "status", "assignee", "task", "sale_line"]


class TimeEntryFilter(filters.FilterSet):
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
        fields = ["ticket", "task", "sale_line", "user", "work_type", "date_from", "date_to", "invoiced", "approval",
                  "written_off"]


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
