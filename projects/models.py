from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sales.models import Customer, SaleOrderLine
from sales.services import sale_line_check_billable


class Project(models.Model):
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("customer"))
    billable = models.BooleanField(_("Billable"), default=False,
                                   help_text=_("Time logged on this project can be invoiced."))
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("default Sales Order Item"),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return self.name

    def clean(self):
        # `teams` is the helpdesk's reverse relation: Rule 1 holds from this side too.
        if not self.billable and self.pk and self.teams.filter(time_reinvoicing=True).exists():
            raise ValidationError({"billable": gettext("A team with Time Reinvoicing bills this project's time: "
                                                           "turn Time Reinvoicing off first.")})
        if self.sale_line_id:
            if not self.billable:
                raise ValidationError({"sale_line": gettext("Only a Billable project can have a Sales Order "
                                                                "Item.")})
            try:
                sale_line_check_billable(line=self.sale_line, customer=self.customer)
            except ValidationError as e:
                raise ValidationError({"sale_line": e.messages}) from e


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("customer"),
        help_text=_("Defaults to the project's customer."),
    )
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("Sales Order Item"),
    )

    class Meta:
        ordering = ["project", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self):
        return self.name

    @property
    def billing_customer(self) -> Customer | None:
        return self.customer or self.project.customer

    def clean(self):
        if self.sale_line_id and self.project_id:
            if not self.project.billable:
                raise ValidationError({"sale_line": gettext("Only a task of a Billable project can have a Sales "
                                                                "Order Item.")})
            try:
                sale_line_check_billable(line=self.sale_line, customer=self.billing_customer)
            except ValidationError as e:
                raise ValidationError({"sale_line": e.messages}) from e
