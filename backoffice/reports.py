"""Alerts, read-only: raised and ended by the scan (reports.alerts), marked dealt with on the overview or by
the API. Managers and accountants see them (their groups' `view_alert`)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from reports.alerts import describe


class AlertAdmin(ReadOnlyAdmin):
    list_display = ("raised_at", "kind", "sale_line", "customer", "recipient", "emailed_at", "cleared_at", "ended_at")
    list_filter = ("kind", ("cleared_at", admin.EmptyFieldListFilter), ("ended_at", admin.EmptyFieldListFilter))
    list_select_related = ("sale_line__order__customer", "sale_line__product", "recipient")
    search_fields = ("sale_line__order__name", "sale_line__order__customer__name", "sale_line__name")
    date_hierarchy = "raised_at"
    fields = ("kind", "sale_line", "message", "raised_at", "delivered_minutes", "ordered_minutes", "threshold",
              "recipient", "emailed_to", "emailed_at", "cleared_at", "cleared_by", "note", "ended_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sale_line__order__customer", "sale_line__product",
                                                            "recipient", "cleared_by")

    @admin.display(description=_("customer"), ordering="sale_line__order__customer__name")
    def customer(self, alert):
        return alert.sale_line.order.customer

    @admin.display(description=_("what crossed"))
    def message(self, alert):
        return describe(alert)
