"""The customer portal's screens (/portal/): a customer's contacts see their tickets, time, hours and invoices.

The names are the contract the portal's tests, the permission matrix and the API's neighbours rely on
(issue 18); they have no namespace. Anything else under /portal/ is the portal's own "not found" page.
"""

from django.urls import path, re_path

from .views import account, home, hours, invoices, tickets
from .views.base import unknown

urlpatterns = [
    path("", home.home, name="portal_home"),
    path("login/", account.PortalLoginView.as_view(), name="portal_login"),
    path("password/", account.password_forgot, name="portal_password_forgot"),
    path("password/<str:uidb64>/<str:token>/", account.password_set, name="portal_password_set"),
    path("tickets/", tickets.ticket_list, name="portal_tickets"),
    path("tickets/new/", tickets.ticket_new, name="portal_ticket_new"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="portal_ticket"),
    path("tickets/<int:pk>/messages/", tickets.ticket_message, name="portal_ticket_message"),
    path("timesheets/<int:pk>/acknowledge/", tickets.entry_acknowledge_view, name="portal_entry_acknowledge"),
    path("timesheets/<int:pk>/dispute/", tickets.entry_dispute_view, name="portal_entry_dispute"),
    path("hours/", hours.hours, name="portal_hours"),
    path("invoices/", invoices.invoice_list, name="portal_invoices"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="portal_invoice"),
    path("invoices/<int:pk>/pdf/", invoices.invoice_pdf, name="portal_invoice_pdf"),
    re_path(r"^.*$", unknown),
]
