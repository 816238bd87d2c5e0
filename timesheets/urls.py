from django.urls import path

from . import views

urlpatterns = [
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/timer/start/", views.ticket_timer_start, name="ticket_timer_start"),
    path("tickets/<int:pk>/timer/stop/", views.ticket_timer_stop, name="ticket_timer_stop"),
    path("tickets/<int:pk>/timesheets.csv", views.ticket_timesheets_csv, name="ticket_timesheets_csv"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/timesheets.csv", views.task_timesheets_csv, name="task_timesheets_csv"),
    path("order-lines/<int:pk>/timesheets.csv", views.line_timesheets_csv, name="line_timesheets_csv"),
]
