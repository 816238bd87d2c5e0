"""The Tasks list. A task's page, with its Timesheets, is in timesheets/views.py."""

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from helpdesk_billing.roles import sees_everything
from sales.views import page, paginate, search_text

from .models import Task


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


@login_required
def task_list(request):
    # A correlated sum, for the page's rows only; a GROUP BY would read every entry, for the COUNT too.
    spent = Task.objects.filter(pk=OuterRef("pk")).annotate(minutes=Sum("time_entries__minutes")).values("minutes")
    tasks = tasks_for(user=request.user).annotate(minutes_spent=Subquery(spent)).order_by("-pk")
    search = search_text(request)
    if search:
        tasks = tasks.filter(Q(name__icontains=search) | Q(project__name__icontains=search))
    return page(request, "projects/task_list.html", {"page_obj": paginate(request, tasks), "search": search})
