"""Browser screens for agents, managers and accountants; every one needs a login."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .forms.login import LoginForm
from .lookups import KINDS, url_name
from .views import (
    alerts,
    approval,
    disputes,
    home,
    invoices,
    languages,
    lookups,
    orders,
    payments,
    receivables,
    reports,
    runs,
    tasks,
    tickets,
    week,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True,
                                                authentication_form=LoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", languages.language_choose, name="language_choose"),

    path("tickets/", tickets.ticket_list, name="ticket_list"),
    path("tickets/new/", tickets.ticket_new, name="ticket_new"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/assign/", tickets.ticket_assign_view, name="ticket_assign"),
    path("tickets/<int:pk>/status/", tickets.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/sales-order-item/", tickets.ticket_sale_line, name="ticket_sale_line"),
    path("tickets/<int:pk>/timer/start/", tickets.ticket_timer_start, name="ticket_timer_start"),
    path("tickets/<int:pk>/timer/stop/", tickets.ticket_timer_stop, name="ticket_timer_stop"),
    path("tickets/<int:pk>/timesheets.csv", tickets.ticket_timesheets_csv, name="ticket_timesheets_csv"),
    path("tickets/<int:pk>/messages/", tickets.ticket_message, name="ticket_message"),

    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/timesheets.csv", tasks.task_timesheets_csv, name="task_timesheets_csv"),

    path("timesheets/week/", week.my_timesheets, name="my_timesheets"),
    path("timesheets/week/cell/", week.week_cell, name="week_cell"),

    path("to-approve/", approval.to_approve, name="to_approve"),

    # Customers' disputes of their time (issue 18): resolved by accountants and managers.
    path("timesheets/<int:pk>/resolve/", disputes.entry_resolve, name="entry_resolve"),
    path("disputes/", disputes.dispute_list, name="dispute_list"),

    path("orders/", orders.order_list, name="order_list"),
    path("orders/new/", orders.quotation_form, name="quotation_create"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", orders.quotation_form, name="quotation_edit"),
    path("orders/<int:pk>/confirm/", orders.order_confirm, name="order_confirm"),
    path("orders/<int:pk>/create-invoice/", orders.invoice_create, name="invoice_create"),
    path("orders/<int:pk>/invoice-preview/", orders.invoice_preview_view, name="invoice_preview"),
    path("order-lines/<int:pk>/delivered/", orders.line_set_delivered, name="line_set_delivered"),
    path("order-lines/<int:pk>/timesheets.csv", orders.line_timesheets_csv, name="line_timesheets_csv"),

    path("to-invoice/", runs.to_invoice, name="to_invoice"),
    path("billing-runs/", runs.run_list, name="billing_run_list"),
    path("billing-runs/create/", runs.run_create, name="billing_run_create"),
    path("billing-runs/<int:pk>/", runs.run_detail, name="billing_run_detail"),
    path("billing-runs/<int:pk>/post/", runs.run_post_view, name="billing_run_post"),
    path("billing-runs/<int:pk>/send/", runs.run_send_view, name="billing_run_send"),
    path("billing-runs/<int:pk>/steps/<int:step>/resume/", runs.run_resume_view, name="billing_run_resume"),

    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/overdue/", receivables.overdue_list, name="overdue_list"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/post/", invoices.invoice_post_view, name="invoice_post"),
    path("invoices/<int:pk>/cancel/", invoices.invoice_cancel_view, name="invoice_cancel"),
    path("invoices/<int:pk>/remove/", invoices.invoice_remove_view, name="invoice_remove"),
    path("invoices/<int:pk>/write-off/", invoices.invoice_write_off_view, name="invoice_write_off"),
    path("invoices/<int:pk>/credit-note/", invoices.invoice_credit_view, name="invoice_credit"),
    path("invoices/<int:pk>/pdf/", invoices.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<int:pk>/send/", invoices.invoice_send_view, name="invoice_send"),
    path("invoices/<int:pk>/facturx/", invoices.invoice_facturx_view, name="invoice_facturx"),
    path("invoices/<int:pk>/ubl/", invoices.invoice_ubl_view, name="invoice_ubl"),
    path("invoices/<int:pk>/payments/", payments.payment_register_view, name="payment_register"),
    path("invoices/<int:pk>/payments/reverse/", payments.payment_reverse_view, name="payment_reverse"),
    path("invoices/<int:pk>/due-date/", payments.invoice_due_date_view, name="invoice_due_date"),
    path("invoices/<int:pk>/timesheets.csv", invoices.invoice_timesheets_csv, name="invoice_timesheets_csv"),

    path("reports/", reports.report_index, name="reports"),
    path("reports/time/", reports.report_time, name="report_time"),
    path("reports/time/entries/", reports.report_time_entries, name="report_time_entries"),
    path("reports/unbilled/", reports.report_unbilled, name="report_unbilled"),
    path("reports/revenue/", reports.report_revenue, name="report_revenue"),
    path("reports/prepaid/", reports.report_prepaid, name="report_prepaid"),
    path("reports/prepaid/<int:pk>/", reports.report_prepaid_line, name="report_prepaid_line"),
    path("alerts/<int:pk>/clear/", alerts.alert_clear_view, name="alert_clear"),

    # The searchable selects' questions, one address per kind (of an object for a dependent list).
    *[path(f"lookup/{kind}/" + ("<int:pk>/" if spec.of else ""), lookups.lookup, {"kind": kind}, name=url_name(kind))
      for kind, spec in KINDS.items()],
]
