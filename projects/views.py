"""The Tasks list. A task's page, with its Timesheets, is in timesheets/views.py."""

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, Subquery, Sum

from sales.views import page, paginate, search_text

from .models import Task
from .selectors import tasks_for


@login_required
def task_list(request):
    # A correlated sum, for the page's rows only; a GROUP BY would read every entry, for the COUNT too.
    spent = Task.objects.filter(pk=OuterRef("pk")).annotate(minutes=Sum("time_entries__minutes")).values("minutes")
    tasks = tasks_for(user=request.user).annotate(minutes_spent=Subquery(spent)).order_by("-pk")
    search = search_text(request)
    if search:
        tasks = tasks.filter(Q(name__icontains=search) | Q(project__name__icontains=search))
    return page(request, "projects/task_list.html", {"page_obj": paginate(request, tasks), "search": search})
