"""Forms of the ticket screens: the Tickets list's filters, New ticket, the ticket's assignee and its
"Sales Order Item"."""

from types import SimpleNamespace

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.limits import SEARCH_LENGTH
from projects.models import Task
from projects.selectors import tasks_for
from sales.models import Customer, SaleOrder, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from tickets.models import HelpdeskTeam, Ticket
from tickets.selectors import assignable_people, teams_for, tickets_search
from timesheets.selectors import customers_for, sale_orders_for

from ..lookups import assignees_of, customers_of, lookup_url, person, sale_line_label, teams_of
from .widgets import Lookup, lookup_texts, record_ids


class TicketFilterForm(forms.Form):
    """The filters of the Tickets list; its choices come from the tickets the user may see."""

    q = forms.CharField(required=False, label=_("Search"), max_length=SEARCH_LENGTH,
                        widget=forms.SearchInput(attrs={"placeholder": _("Title, description, customer or #number")}))
    team = forms.ModelChoiceField(queryset=HelpdeskTeam.objects.none(), required=False, label=_("Team"),
                                  empty_label=_("All teams"), widget=Lookup("ticket-teams"))
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any status")), ("open", _("Open")),
                                                           *Ticket.Status.choices], required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, label=_("Customer"),
                                      empty_label=_("All customers"), widget=Lookup("ticket-customers"))
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("Assignee"),
                                      empty_label=_("Anyone"), widget=Lookup("ticket-assignees"))
    mine = forms.BooleanField(required=False, label=_("My tickets"))
    # The sales order's "Tickets" smart button links here (?order=<id>); the page shows it as a chip.
    order = forms.ModelChoiceField(queryset=SaleOrder.objects.none(), required=False, widget=forms.HiddenInput,
                                   error_messages={"invalid_choice": _("That sales order is not one you can see: "
                                                                       "the list shows every ticket.")})

    def __init__(self, *args, tickets, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Every choice the user's tickets hold is valid; the page lists none of them (web.lookups).
        self.fields["team"].queryset = teams_of(tickets)
        self.fields["customer"].queryset = customers_of(tickets)
        self.fields["assignee"].queryset = assignees_of(tickets)
        self.fields["assignee"].label_from_instance = person
        # Any order the user sees, though none of their tickets bill it (then the list is empty).
        self.fields["order"].queryset = sale_orders_for(user=user) if user else SaleOrder.objects.none()

    def filter(self, tickets, *, user):
        """Return `tickets` narrowed by the valid filters."""
        data = self.cleaned_data
        if data["q"]:
            tickets = tickets_search(tickets, data["q"])
        for name in ("team", "customer", "assignee"):
            if data[name] is not None:
                tickets = tickets.filter(**{name: data[name]})
        if data.get("order") is not None:
            tickets = tickets.filter(sale_line__order=data["order"])
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
                                       label=_("Sales Order Item"), empty_label=_("— none: time is not billed —"),
                                       widget=Lookup("ticket-sale-lines"))

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("initial", {"sale_line": ticket.sale_line_id})
        super().__init__(*args, **kwargs)
        field = self.fields["sale_line"]
        field.queryset = sale_lines_billable_for(customer=ticket.customer)
        field.label_from_instance = sale_line_label
        field.widget.of = ticket


# --- New ticket and the assignee ----------------------------------------------------------------------------

# The object of a dependent list not chosen yet: its address ends in /0/, which static/js/ticket_form.js
# replaces with the chosen record's id.
NOTHING = SimpleNamespace(pk=0)


class DependentLookup(Lookup):
    """A Lookup whose list is of the record chosen in another field of the form (`on`): static/js/ticket_form.js
    asks /lookup/<kind>/<its id>/, and empties this choice when that record changes (unless `keep`)."""

    def __init__(self, kind: str, *, on: str, keep: bool = False):
        super().__init__(kind)
        self.on, self.keep = on, keep

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = forms.Select.build_attrs(self, base_attrs, extra_attrs)  # Lookup's needs the object: it may be none
        attrs["data-lookup"] = lookup_url(self.kind, self.of or NOTHING)
        attrs["data-lookup-of"] = lookup_url(self.kind, NOTHING)
        attrs["data-depends-on"] = self.on
        attrs.update(lookup_texts())
        if self.keep:
            attrs["data-keep"] = ""
        return attrs


def _choose(message: str) -> dict:
    return {"invalid_choice": message}


class NewTicketForm(forms.Form):
    """New ticket: filed in a team the user may file in, for a customer they work for. Each list offers what the
    ticket rules accept (web.lookups); the rules' refusals (a task already linked, a task of another project, a
    line of another customer, an assignee outside the team) come back from tickets.services on their field."""

    team = forms.ModelChoiceField(queryset=HelpdeskTeam.objects.none(), widget=Lookup("new-ticket-teams"),
                                  label=_("Team"), empty_label=_("Choose a team"),
                                  error_messages=_choose(_("Choose one of the Helpdesk Teams you work in.")))
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), widget=Lookup("new-ticket-customers"),
                                      label=_("Customer"), empty_label=_("Choose a customer"),
                                      error_messages=_choose(_("Choose one of the customers in the list.")))
    title = forms.CharField(label=_("Title"), max_length=Ticket._meta.get_field("title").max_length)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    task = forms.ModelChoiceField(queryset=Task.objects.none(), required=False, label=_("Task"),
                                  empty_label=_("— none —"), widget=DependentLookup("team-tasks", on="team"),
                                  error_messages=_choose(_("Choose a task of the team's project.")))
    sale_line = forms.ModelChoiceField(queryset=SaleOrderLine.objects.none(), required=False,
                                       label=_("Sales Order Item"), empty_label=_("— none: time is not billed —"),
                                       widget=DependentLookup("customer-sale-lines", on="customer"),
                                       error_messages=_choose(_("Choose a Sales Order Item of the customer's "
                                                                "confirmed orders.")))
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("Assignee"),
                                      empty_label=_("Nobody"),
                                      widget=DependentLookup("team-people", on="team", keep=True),
                                      error_messages=_choose(_("Choose yourself, a member of the team or a manager.")))

    def __init__(self, *args, user, **kwargs):
        teams = teams_for(user=user)
        if "initial" not in kwargs:
            own = user.helpdesk_teams.filter(pk__in=teams.values("pk")).order_by("name", "pk").first()
            kwargs["initial"] = {"team": own.pk if own else None, "assignee": user.pk}
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["team"].queryset = teams
        fields["customer"].queryset = customers_for(user=user)
        # Wider than the lists, so that the rules say what is wrong with a task or a line the user sees.
        fields["task"].queryset = tasks_for(user=user)
        fields["sale_line"].queryset = SaleOrderLine.objects.filter(
            order__customer__in=customers_for(user=user)).select_related("order", "product")
        fields["sale_line"].label_from_instance = sale_line_label
        fields["assignee"].queryset = assignable_people(teams)
        fields["assignee"].label_from_instance = person
        for name, on in (("task", "team"), ("sale_line", "customer"), ("assignee", "team")):
            fields[name].widget.of = self._chosen_id(on)

    def _chosen_id(self, name: str):
        """The record chosen in field `name` as its dependent lists ask for it (checked when they ask)."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        ids = record_ids([value] if value is not None else [])
        return SimpleNamespace(pk=ids[0]) if ids else None


class AssigneeLookup(Lookup):
    """A Lookup whose chosen option is the ticket's assignee, read with the ticket: no query of its own (and
    shown even once they left the team, as the ticket stands)."""

    current = None

    def optgroups(self, name, value, attrs=None):
        if self.current is None or record_ids(value) != [self.current.pk]:
            return super().optgroups(name, value, attrs)
        field = self.choices.field
        options = [self.create_option(name, "", field.empty_label, False, 0),
                   self.create_option(name, self.current.pk, field.label_from_instance(self.current), True, 1)]
        return [(None, options, 0)]


class AssignForm(forms.Form):
    """The ticket's assignee: a member of its team, a manager, or nobody."""

    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("Assignee"),
                                      empty_label=_("Nobody"), widget=AssigneeLookup("team-people"))

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("initial", {"assignee": ticket.assignee_id})
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignable_people(HelpdeskTeam.objects.filter(pk=ticket.team_id))
        field.label_from_instance = person
        field.widget.of = ticket.team
        field.widget.current = ticket.assignee
