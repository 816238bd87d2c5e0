from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.models import Project, Task
from sales.models import Customer, SaleOrderLine, WorkType
from sales.services import sale_line_check_billable


class HelpdeskTeam(models.Model):
    name = models.CharField(_("name"), max_length=200)
    timesheet_on_ticket = models.BooleanField(
        _("Timesheet on Ticket"), default=False, help_text=_("Agents log time on this team's tickets.")
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="teams", verbose_name=_("project"),
        help_text=_("Where the time of this team's tickets goes."),
    )
    time_reinvoicing = models.BooleanField(
        _("Time Reinvoicing"), default=False, help_text=_("Bill the time to the ticket's Sales Order Item.")
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="helpdesk_teams",
                                     verbose_name=_("members"))

    class Invoicing(models.TextChoices):
        ALL = "all", _("All recorded timesheets")
        APPROVED = "approved", _("Approved timesheets only")

    invoiced_timesheets = models.CharField(
        _("Invoiced Timesheets"), max_length=10, choices=Invoicing.choices, default=Invoicing.ALL,
        help_text=_("Which of the team's timesheets count in Delivered and are invoiced."),
    )
    default_work_type = models.ForeignKey(
        WorkType, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("default work type"),
        help_text=_("The work type of time logged on this team's tickets unless the agent chooses another."),
    )
    # The customer portal (issue 18).
    portal_tickets = models.BooleanField(
        _("Accepts portal tickets"), default=False,
        help_text=_("Customers' contacts may open tickets for this team from the portal."))
    hold_disputed = models.BooleanField(
        _("Hold disputed time"), default=True,
        help_text=_("A timesheet a customer disputes is left out of Delivered and invoices until an accountant "
                    "resolves the dispute; else it is billed, and the dispute shown beside it."))
    timesheets_lock_date = models.DateField(
        _("Timesheets lock date"), null=True, blank=True,
        help_text=_("The team's timesheets dated on or before it are locked, except for managers "
                    "(the global lock date applies too, whichever is later)."),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("Helpdesk Team")
        verbose_name_plural = _("Helpdesk Teams")
        constraints = [
            models.CheckConstraint(
                condition=Q(timesheet_on_ticket=False) | Q(project__isnull=False),
                name="team_timesheet_needs_project",
                violation_error_message=_("Timesheet on Ticket needs a project."),
            ),
            models.CheckConstraint(
                condition=Q(time_reinvoicing=False) | Q(timesheet_on_ticket=True),
                name="team_reinvoicing_needs_timesheet",
                violation_error_message=_("Time Reinvoicing needs Timesheet on Ticket."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.timesheet_on_ticket and not self.project_id:
            raise ValidationError({"project": gettext("Timesheet on Ticket needs a project where the time goes.")})
        if self.time_reinvoicing:
            if not self.timesheet_on_ticket:
                raise ValidationError({"time_reinvoicing": gettext("Time Reinvoicing needs Timesheet on Ticket.")})
            if not self.project.billable:
                message = gettext("Time Reinvoicing needs a Billable project: mark {project} Billable.")
                raise ValidationError({"time_reinvoicing": message.format(project=self.project)})


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In Progress")
        ON_HOLD = "on_hold", _("On Hold")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    team = models.ForeignKey(HelpdeskTeam, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("team"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets",
                                 verbose_name=_("customer"))
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    task = models.OneToOneField(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket", verbose_name=_("task"),
        help_text=_("A task of the team's project; both show the same Timesheets."),
    )
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
        verbose_name=_("Sales Order Item"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        """Whether a message may still be added (not solved, not closed)."""
        return self.status not in (self.Status.SOLVED, self.Status.CLOSED)

    def clean(self):
        errors = {}
        if self.task_id and self.team_id:
            if self.task.project_id != self.team.project_id:
                project = self.team.project
                errors["task"] = (gettext("Choose a task of {project}, the team's project.").format(project=project)
                                  if project else gettext("Choose a task of the team's project."))
        if self.sale_line_id and self.customer_id:
            try:
                sale_line_check_billable(line=self.sale_line, customer=self.customer)
            except ValidationError as e:
                errors["sale_line"] = e.messages
        if errors:
            raise ValidationError(errors)


class TicketMessage(models.Model):
    """A message on a ticket: from the customer's contact on the portal, or from the support team (issue 18)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    # Said by the customer's side (a contact), else the support team's: kept, as who they are may change.
    from_customer = models.BooleanField(_("from the customer"), default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")

    def __str__(self):
        return f"{self.ticket} {self.created_at:%Y-%m-%d %H:%M}"
