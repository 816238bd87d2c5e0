"""Forms of the ticket screens: the Tickets list's filters and the ticket's "Sales Order Item"."""

from html import escape  # the standard library's: Django's adds a lazy-string wrapper per call

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.safestring import mark_safe

from core.limits import SEARCH_LENGTH
from sales.models import Customer, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from sales.units import HOUR, minutes_to_qty
from tickets.models import HelpdeskTeam, Ticket
from tickets.selectors import tickets_search


class PlainSelect(forms.Select):
    """A <select> written in plain Python: Django renders each option through a template (~0.1 ms),
    and a manager's filters list every team, customer and agent. The same HTML as forms.Select."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = set(self.format_value(value))
        options = []
        for choice, label in self.choices:
            choice = str(choice)
            mark = " selected" if choice in selected else ""
            options.append(f'<option value="{escape(choice)}"{mark}>{escape(str(label))}</option>')
        attributes = "".join(f' {key}="{escape(str(val))}"' if val is not True else f" {key}"
                             for key, val in attrs.items() if val is not False)
        return mark_safe(f'<select name="{escape(name)}"{attributes}>\n' + "\n".join(options) + "\n</select>")


class TicketFilterForm(forms.Form):
    """The filters of the Tickets list; its choices come from the tickets the user may see."""

    q = forms.CharField(required=False, label="Search", max_length=SEARCH_LENGTH,
                        widget=forms.SearchInput(attrs={"placeholder": "Title, customer or #number"}))
    team = forms.ModelChoiceField(queryset=HelpdeskTeam.objects.none(), required=False, empty_label="All teams",
                                  widget=PlainSelect)
    status = forms.ChoiceField(choices=[("", "Any status"), ("open", "Open"), *Ticket.Status.choices],
                               required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="All customers",
                                      widget=PlainSelect)
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                      empty_label="Anyone", widget=PlainSelect)
    mine = forms.BooleanField(required=False, label="My tickets")

    def __init__(self, *args, tickets, **kwargs):
        super().__init__(*args, **kwargs)
        # One indexed probe per choice, instead of a DISTINCT join over every visible ticket.
        self.fields["team"].queryset = HelpdeskTeam.objects.filter(Exists(tickets.filter(team=OuterRef("pk"))))
        self.fields["customer"].queryset = Customer.objects.filter(Exists(tickets.filter(customer=OuterRef("pk"))))
        self.fields["assignee"].queryset = (get_user_model().objects
                                            .filter(Exists(tickets.filter(assignee=OuterRef("pk"))))
                                            .order_by("username"))
        # The options from plain rows, not model instances: a manager sees every customer and agent.
        for name, columns, label in (
                ("team", ["name"], lambda name: name),
                ("customer", ["name"], lambda name: name),
                ("assignee", ["username", "first_name", "last_name"],
                 lambda username, first, last: f"{first} {last}".strip() or username)):
            field = self.fields[name]
            rows = field.queryset.values_list("pk", *columns)
            field.widget.choices = [("", field.empty_label), *((pk, label(*rest)) for pk, *rest in rows)]

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
