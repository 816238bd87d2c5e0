"""The customer portal's screens (/portal/): a customer's contacts see their tickets, time, hours and invoices."""

urlpatterns = []
