from django.db import transaction

from sales.models import SaleOrderLine
from sales.services import links_lock

from .models import Project, Task


@transaction.atomic
def project_save(*, project: Project) -> Project:
    """Validate and save a project; its entries follow a changed Sales Order Item (timesheets' receiver)."""
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def task_create(*, project: Project, name: str, sale_line: SaleOrderLine | None = None) -> Task:
    task = Task(project=project, name=name, sale_line=sale_line)
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_set_sale_line(*, task: Task, sale_line: SaleOrderLine | None) -> Task:
    """Set the task's Sales Order Item; its unbilled, not hand-set entries move with it.

    Validated against the task as stored, read with the links lock held (sales.services.links_lock).
    """
    links_lock(exclusive=True)
    stored = Task.objects.select_related("project__customer", "customer").get(pk=task.pk)
    stored.sale_line = task.sale_line = sale_line
    stored.full_clean()
    stored.save(update_fields=["sale_line"])
    return stored
