"""Tasks: the list, the task page with its Timesheets tab (the same rows as its ticket's), and its
Timesheets as CSV."""

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, Subquery, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from projects.models import Task
from projects.selectors import tasks_for
from timesheets.selectors import time_entries_for

from .base import page, paginate, search_text
from .timesheets import timesheets_csv, timesheets_tab


@login_required
def task_list(request):
    # A correlated sum, for the page's rows only; a GROUP BY would read every entry, for the COUNT too.
    spent = Task.objects.filter(pk=OuterRef("pk")).annotate(minutes=Sum("time_entries__minutes")).values("minutes")
    tasks = tasks_for(user=request.user).annotate(minutes_spent=Subquery(spent)).order_by("-pk")
    search = search_text(request)
    if search:
        tasks = tasks.filter(Q(name__icontains=search) | Q(project__name__icontains=search))
    return page(request, "web/tasks/task_list.html", {"page_obj": paginate(request, tasks), "search": search})


@login_required
def task_detail(request, pk):
    task = get_object_or_404(tasks_for(user=request.user), pk=pk)
    entries = time_entries_for(user=request.user).filter(task=task)
    tab = timesheets_tab(request, entries=entries, task=task)
    if isinstance(tab, HttpResponse):
        return tab
    return page(request, "web/tasks/task_detail.html", {
        "task": task, "ticket": getattr(task, "ticket", None), "tab": tab,
    })


@login_required
def task_timesheets_csv(request, pk):
    task = get_object_or_404(tasks_for(user=request.user), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(task=task), f"task-{task.pk}-timesheets.csv")
