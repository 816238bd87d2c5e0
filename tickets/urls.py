from django.urls import path

from . import views

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/sales-order-item/", views.ticket_sale_line, name="ticket_sale_line"),
]
