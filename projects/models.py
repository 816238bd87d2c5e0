from django.core.exceptions import ValidationError
from django.db import models

from sales.models import Customer, SaleOrderLine
from sales.services import sale_line_check_billable


class Project(models.Model):
    name = models.CharField(max_length=200)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    billable = models.BooleanField("Billable", default=False, help_text="Time logged on this project can be invoiced.")
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="default Sales Order Item",
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        # `teams` is the helpdesk's reverse relation: Rule 1 holds from this side too.
        if not self.billable and self.pk and self.teams.filter(time_reinvoicing=True).exists():
            raise ValidationError({"billable": "A team with Time Reinvoicing bills this project's time: "
                                               "turn Time Reinvoicing off first."})
        if self.sale_line_id:
            if not self.billable:
                raise ValidationError({"sale_line": "Only a Billable project can have a Sales Order Item."})
            try:
                sale_line_check_billable(line=self.sale_line, customer=self.customer)
            except ValidationError as e:
                raise ValidationError({"sale_line": e.messages}) from e


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tasks")
    name = models.CharField(max_length=200)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, help_text="Defaults to the project's customer."
    )
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="Sales Order Item",
    )

    class Meta:
        ordering = ["project", "pk"]

    def __str__(self):
        return self.name

    @property
    def billing_customer(self) -> Customer | None:
        return self.customer or self.project.customer

    def clean(self):
        if self.sale_line_id and self.project_id:
            if not self.project.billable:
                raise ValidationError({"sale_line": "Only a task of a Billable project can have a Sales Order Item."})
            try:
                sale_line_check_billable(line=self.sale_line, customer=self.billing_customer)
            except ValidationError as e:
                raise ValidationError({"sale_line": e.messages}) from e
