from django.db.models import Q, QuerySet

from core.roles import sees_everything

from .models import Project, Task


def tasks_for(*, user) -> QuerySet[Task]:
    """Return the tasks `user` may open: all for managers and accountants; for agents, those of
    their teams' projects and those linked to their teams' tickets (as tickets_for does for tickets)."""
    tasks = Task.objects.select_related("project", "customer", "project__customer", "sale_line__order",
                                        "sale_line__product", "ticket__customer")
    if sees_everything(user):
        return tasks
    # Filtered by primary key, so sums over the task's entries are not multiplied by the team joins.
    mine = Task.objects.filter(Q(project__teams__members=user) | Q(ticket__team__members=user)).values("pk")
    return tasks.filter(pk__in=mine)


def projects_for(*, user) -> QuerySet[Project]:
    """Return the projects `user` may see: all for managers and accountants, their teams' for agents."""
    if sees_everything(user):
        return Project.objects.all()
    if not user.is_authenticated:
        return Project.objects.none()
    # By primary key, so a project of two of the agent's teams is listed once.
    return Project.objects.filter(pk__in=Project.objects.filter(teams__members=user).values("pk"))
