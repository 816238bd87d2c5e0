from django.urls import path

from . import views

urlpatterns = [
    path("orders/new/", views.quotation_form, name="quotation_create"),
    path("orders/<int:pk>/edit/", views.quotation_form, name="quotation_edit"),
    path("orders/<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("order-lines/<int:pk>/delivered/", views.line_set_delivered, name="line_set_delivered"),
]
