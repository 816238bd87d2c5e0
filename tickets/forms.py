from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from sales.models import Customer, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from sales.units import HOUR, minutes_to_qty

from .models import HelpdeskTeam, Ticket


class TicketFilterForm(forms.Form):
    """The filters of the Tickets list; its choices come from the tickets the user may see."""

    q = forms.CharField(required=False, label="Search",
                        widget=forms.SearchInput(attrs={"placeholder": "Title, customer or #number"}))
    team = forms.ModelChoiceField(queryset=HelpdeskTeam.objects.none(), required=False, empty_label="All teams")
    status = forms.ChoiceField(choices=[("", "Any status"), ("open", "Open"), *Ticket.Status.choices],
                               required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="All customers")
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                      empty_label="Anyone")
    mine = forms.BooleanField(required=False, label="My tickets")

    def __init__(self, *args, tickets, **kwargs):
        super().__init__(*args, **kwargs)
        visible = tickets.values("pk")
        self.fields["team"].queryset = HelpdeskTeam.objects.filter(tickets__in=visible).distinct()
        self.fields["customer"].queryset = Customer.objects.filter(tickets__in=visible).distinct()
        self.fields["assignee"].queryset = (get_user_model().objects.filter(assigned_tickets__in=visible)
                                            .distinct().order_by("username"))
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name() or user.username

    def filter(self, tickets, *, user):
        """Return `tickets` narrowed by the valid filters."""
        data = self.cleaned_data
        if data["q"]:
            query = data["q"].strip()
            number = query.lstrip("#")
            match = Q(title__icontains=query) | Q(customer__name__icontains=query)
            if number.isdigit():
                match |= Q(pk=int(number))
            tickets = tickets.filter(match)
        for name in ("team", "customer", "assignee"):
            if data[name] is not None:
                tickets = tickets.filter(**{name: data[name]})
        if data["status"] == "open":
            tickets = tickets.exclude(status__in=[Ticket.Status.SOLVED, Ticket.Status.CLOSED])
        elif data["status"]:
            tickets = tickets.filter(status=data["status"])
        if data["mine"]:
            tickets = tickets.filter(assignee=user)
        return tickets


def sale_line_label(line: SaleOrderLine) -> str:
    """S00001 · Service on Timesheet · 2.25 h delivered."""
    delivered = minutes_to_qty(line.delivered_minutes, HOUR)
    return f"{line.order.name} · {line.name or line.product.name} · {delivered} h delivered"


class SaleLineForm(forms.Form):
    """The ticket's "Sales Order Item": a confirmed, billable line of the ticket's customer."""

    sale_line = forms.ModelChoiceField(queryset=SaleOrderLine.objects.none(), required=False,
                                       label="Sales Order Item", empty_label="— none: time is not billed —")

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("initial", {"sale_line": ticket.sale_line_id})
        super().__init__(*args, **kwargs)
        field = self.fields["sale_line"]
        field.queryset = sale_lines_billable_for(customer=ticket.customer)
        field.label_from_instance = sale_line_label
