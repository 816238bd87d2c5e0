"""Writes of the helpdesk app.

Moving the time entries that follow a ticket's task or Sales Order Item is the
timesheets app's job: its receiver reacts to the saved ticket.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict
from core.roles import is_contact, is_manager
from projects.models import Task
from sales.models import Customer, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from sales.services import links_lock

from .models import HelpdeskTeam, Ticket, TicketMessage

_KEEP = object()
# What a team lets its customers do on the portal (issue 18): audited when changed.
PORTAL_SETTINGS = ("portal_tickets", "hold_disputed")


def _stored(ticket: Ticket) -> Ticket:
    """Return the ticket as stored, read with the links lock held.

    A change of one link is validated and written against what others committed (a customer
    moved a moment ago), not against the caller's copy, which may be older.
    """
    links_lock(exclusive=True)
    return Ticket.objects.select_related("team", "customer", "sale_line__order").get(pk=ticket.pk)


@transaction.atomic
def team_save(*, team: HelpdeskTeam, actor=None) -> HelpdeskTeam:
    """Validate and save a team; a change of its Invoiced Timesheets, lock date or portal settings goes in the
    audit log.

    Saving moves Delivered when Invoiced Timesheets changed (the timesheets receiver recounts the
    team's unbilled time, in this transaction).
    """
    team.full_clean()
    watched = ("invoiced_timesheets", "timesheets_lock_date", *PORTAL_SETTINGS)
    before = HelpdeskTeam.objects.filter(pk=team.pk).values(*watched).first() if team.pk else None
    team.save()
    if before is None:
        return team
    if before["invoiced_timesheets"] != team.invoiced_timesheets:
        audit_record(action=AuditEvent.Action.TEAM_INVOICING_CHANGED, obj=team, actor=actor, changes={
            "invoiced_timesheets": [before["invoiced_timesheets"], team.invoiced_timesheets]})
    if before["timesheets_lock_date"] != team.timesheets_lock_date:
        audit_record(action=AuditEvent.Action.LOCK_DATE_CHANGED, obj=team, actor=actor, changes={
            "timesheets_lock_date": [before["timesheets_lock_date"], team.timesheets_lock_date]})
    if portal := {f: [before[f], getattr(team, f)] for f in PORTAL_SETTINGS if before[f] != getattr(team, f)}:
        audit_record(action=AuditEvent.Action.TEAM_PORTAL_CHANGED, obj=team, actor=actor, changes=portal)
    return team


def _check_assignee(team: HelpdeskTeam, assignee) -> None:
    """A ticket is assigned to someone of its team (themselves or a teammate), or to a manager, who works
    every team's tickets; never to an accountant or a deactivated user."""
    if assignee is None:
        return
    if not assignee.is_active:
        raise ValidationError({"assignee": _("{person} is deactivated: assign the ticket to someone else.").format(
            person=assignee)})
    if is_manager(assignee) or team.members.filter(pk=assignee.pk).exists():
        return
    raise ValidationError({"assignee": _("{person} is not in the team {team}: assign the ticket to one of its "
                                        "members.").format(person=assignee, team=team)})


@transaction.atomic
def ticket_create(*, team: HelpdeskTeam, customer, title: str, description: str = "", assignee=None,
                  task: Task | None = None, sale_line: SaleOrderLine | None = None, actor=None) -> Ticket:
    """File a ticket; who filed it, and to whom, goes in its history (the audit log)."""
    ticket = Ticket(team=team, customer=customer, title=title, description=description, assignee=assignee,
                    task=task, sale_line=sale_line)
    if task is not None:
        # Under the links lock, as ticket_link_task: two tickets filed at once on one task are checked one
        # after the other, so the second gets this message, not the unique constraint's error.
        links_lock(exclusive=True)
        if Ticket.objects.filter(task=task).exists():
            raise ValidationError({"task": _("{task} is already linked to another ticket.").format(task=task)})
    ticket.full_clean()
    _check_assignee(team, assignee)
    ticket.save()
    audit_record(action=AuditEvent.Action.TICKET_CREATED, obj=ticket, actor=actor, changes={
        "team": str(team), "customer": str(customer), "status": ticket.status,
        "assignee": assignee.get_username() if assignee else None})
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor=None) -> Ticket:
    """Assign the ticket to `assignee` (None: to no one), recorded with who did it and when."""
    stored = Ticket.objects.select_for_update(of=("self",)).select_related("team", "assignee").get(pk=ticket.pk)
    _check_assignee(stored.team, assignee)
    before = stored.assignee
    if before == assignee:
        return stored
    stored.assignee = ticket.assignee = assignee
    stored.save(update_fields=["assignee"])
    audit_record(action=AuditEvent.Action.TICKET_ASSIGNED, obj=stored, actor=actor, changes={
        "assignee": [before.get_username() if before else None, assignee.get_username() if assignee else None]})
    return stored


@transaction.atomic
def ticket_link_task(*, ticket: Ticket, task: Task | None) -> Ticket:
    """Link the ticket to a task of its team's project (or unlink with None).

    A task links at most one ticket: the OneToOne field refuses a second one.
    """
    if task is not None and Ticket.objects.filter(task=task).exclude(pk=ticket.pk).exists():
        raise ValidationError({"task": _("{task} is already linked to another ticket.").format(task=task)})
    stored = _stored(ticket)
    stored.task = ticket.task = task
    stored.full_clean()
    stored.save(update_fields=["task"])
    return stored


@transaction.atomic
def ticket_set_sale_line(*, ticket: Ticket, sale_line: SaleOrderLine | None) -> Ticket:
    """Set the ticket's Sales Order Item; its unbilled, not hand-set entries move with it."""
    stored = _stored(ticket)
    stored.sale_line = sale_line
    stored.full_clean()
    stored.save(update_fields=["sale_line"])
    ticket.sale_line = sale_line
    return stored


@transaction.atomic
def ticket_set_customer(*, ticket: Ticket, customer: Customer, sale_line=_KEEP, actor=None) -> Ticket:
    """Move the ticket to another customer, with its time: a manager's correction once time is logged.

    Its Sales Order Item becomes `sale_line` (a line of the new customer's), or none when it sold to
    the old one. The timesheets app's receivers move the ticket's entries, lines set by hand too
    (they sold to the old customer), and refuse while any of them is invoiced: time billed to one
    customer never moves to another. Who may call this is the interfaces' question
    (the rule tickets.change_ticket_customer, core.permissions).
    """
    if not isinstance(customer, Customer):
        raise ValidationError({"customer": _("Choose a customer.")})
    stored = _stored(ticket)
    before = (stored.customer, stored.sale_line_id)
    stored.customer = customer
    if sale_line is not _KEEP:
        stored.sale_line = sale_line
    elif stored.sale_line_id and stored.sale_line.order.customer_id != customer.pk:
        stored.sale_line = None
    stored.full_clean()
    stored.save(update_fields=["customer", "sale_line"])
    ticket.customer, ticket.sale_line = stored.customer, stored.sale_line
    if before[0] != customer:
        audit_record(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED, obj=stored, actor=actor, changes={
            "customer": [str(before[0]), str(customer)], "sale_line": [before[1], stored.sale_line_id],
            # timesheets' reverse relation: the entries that moved with the ticket
            "timesheets": sorted(stored.time_entries.values_list("pk", flat=True))})
    return stored


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, actor=None) -> Ticket:
    """Move the ticket to `status`; each change is recorded with who made it and when."""
    if status not in Ticket.Status.values:
        raise ValidationError({"status": _("Unknown status {status}.").format(status=repr(status))})
    before = Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("status", flat=True).first()
    ticket.status = status
    if before == status:
        return ticket
    ticket.save(update_fields=["status"])
    audit_record(action=AuditEvent.Action.TICKET_STATUS_CHANGED, obj=ticket, actor=actor,
                 changes={"status": [before, status]})
    return ticket


# --- The customer portal (issue 18) --------------------------------------------------------------

MESSAGE_LIMIT = 10_000
TITLE_LIMIT = Ticket._meta.get_field("title").max_length


def _text(value, *, field: str, limit: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Write it as text.")})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep it under {limit} characters.").format(limit=limit)})
    return value


@transaction.atomic
def ticket_open_from_portal(*, contact, team: HelpdeskTeam, title, description="") -> Ticket:
    """A customer's contact opens a ticket for their customer, for a team that accepts portal tickets; it is
    new and unassigned, and the team picks it up from the Tickets list.

    When the customer has exactly one line its time may bill (a confirmed order's timesheet or prepaid line),
    the ticket bills to it, as the team's agents would set it; with several, they choose."""
    if team is None or not team.portal_tickets:
        raise ValidationError({"team": _("Choose a team that accepts tickets from the portal.")})
    title = _text(title, field="title", limit=TITLE_LIMIT)
    description = _text(description, field="description", limit=MESSAGE_LIMIT, required=False)
    lines = list(sale_lines_billable_for(customer=contact.customer)[:2]) if team.time_reinvoicing else []
    return ticket_create(team=team, customer=contact.customer, title=title, description=description,
                         sale_line=lines[0] if len(lines) == 1 else None, actor=contact.user)


@transaction.atomic
def ticket_message_add(*, ticket: Ticket, author, body) -> TicketMessage:
    """Add a message to an open ticket: from its customer's contact, or from the support team."""
    body = _text(body, field="body", limit=MESSAGE_LIMIT)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not ticket.is_open:
        raise Conflict(_("Ticket #{number} is {status}: messages go on open tickets. Open a new ticket.").format(
            number=ticket.pk, status=ticket.get_status_display().lower()))
    message = TicketMessage.objects.create(ticket=ticket, author=author, body=body, from_customer=is_contact(author))
    audit_record(action=AuditEvent.Action.TICKET_MESSAGE, obj=ticket, actor=author,
                 changes={"message": message.pk, "from_customer": message.from_customer})
    return message
