"""Forms of the ticket screens: the Tickets list's filters and the ticket's "Sales Order Item"."""

from django import forms
from django.contrib.auth import get_user_model

from core.limits import SEARCH_LENGTH
from sales.models import Customer, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from tickets.models import HelpdeskTeam, Ticket
from tickets.selectors import tickets_search

from ..lookups import assignees_of, customers_of, person, sale_line_label, teams_of
from .widgets import Lookup


class TicketFilterForm(forms.Form):
    """The filters of the Tickets list; its choices come from the tickets the user may see."""

    q = forms.CharField(required=False, label="Search", max_length=SEARCH_LENGTH,
                        widget=forms.SearchInput(attrs={"placeholder": "Title, description, customer or #number"}))
    team = forms.ModelChoiceField(queryset=HelpdeskTeam.objects.none(), required=False, empty_label="All teams",
                                  widget=Lookup("ticket-teams"))
    status = forms.ChoiceField(choices=[("", "Any status"), ("open", "Open"), *Ticket.Status.choices],
                               required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="All customers",
                                      widget=Lookup("ticket-customers"))
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                      empty_label="Anyone", widget=Lookup("ticket-assignees"))
    mine = forms.BooleanField(required=False, label="My tickets")

    def __init__(self, *args, tickets, **kwargs):
        super().__init__(*args, **kwargs)
        # Every choice the user's tickets hold is valid; the page lists none of them (web.lookups).
        self.fields["team"].queryset = teams_of(tickets)
        self.fields["customer"].queryset = customers_of(tickets)
        self.fields["assignee"].queryset = assignees_of(tickets)
        self.fields["assignee"].label_from_instance = person

    def filter(self, tickets, *, user):
        """Return `tickets` narrowed by the valid filters."""
        data = self.cleaned_data
        if data["q"]:
            tickets = tickets_search(tickets, data["q"])
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


class SaleLineForm(forms.Form):
    """The ticket's "Sales Order Item": a confirmed, billable line of the ticket's customer."""

    sale_line = forms.ModelChoiceField(queryset=SaleOrderLine.objects.none(), required=False,
                                       label="Sales Order Item", empty_label="— none: time is not billed —",
                                       widget=Lookup("ticket-sale-lines"))

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("initial", {"sale_line": ticket.sale_line_id})
        super().__init__(*args, **kwargs)
        field = self.fields["sale_line"]
        field.queryset = sale_lines_billable_for(customer=ticket.customer)
        field.label_from_instance = sale_line_label
        field.widget.of = ticket
