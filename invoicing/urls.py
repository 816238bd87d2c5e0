from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/create-invoice/", views.invoice_create, name="invoice_create"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/post/", views.invoice_post_view, name="invoice_post"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel_view, name="invoice_cancel"),
    path("invoices/<int:pk>/remove/", views.invoice_remove_view, name="invoice_remove"),
    path("invoices/<int:pk>/credit-note/", views.invoice_credit_view, name="invoice_credit"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<int:pk>/timesheets.csv", views.invoice_timesheets_csv, name="invoice_timesheets_csv"),
]
