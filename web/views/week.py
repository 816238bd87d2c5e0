"""My Timesheets: the agent's week as a grid (timesheets.week). Placeholder until its screen lands."""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def my_timesheets(request):
    raise Http404


@login_required
def week_cell(request):
    raise Http404
