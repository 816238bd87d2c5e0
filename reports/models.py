"""Alerts: a sales order line whose Delivered reached its product's threshold of the ordered quantity
(Odoo's upsell warning), or a prepaid line whose remaining hours fell below its product's threshold.

One alert per crossing: raised when the condition starts to hold, ended when it stops holding (the
order was upsold, time moved), so that crossing again raises a new one. "Dealt with" clears it from
the overview while the condition still holds, and no second alert comes until it crosses again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales.models import SaleOrderLine


class Alert(models.Model):
    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered reached the threshold")
        REMAINING = "remaining", _("Prepaid hours running low")

    sale_line = models.ForeignKey(SaleOrderLine, on_delete=models.CASCADE, related_name="alerts",
                                  verbose_name=_("Sales Order Item"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    # The figures when it was raised, as they were: the line's Delivered and ordered time, and the threshold
    # (a percentage of the ordered quantity, or the remaining minutes).
    delivered_minutes = models.BigIntegerField(_("delivered minutes"))
    ordered_minutes = models.BigIntegerField(_("ordered minutes"))
    threshold = models.DecimalField(_("threshold"), max_digits=10, decimal_places=2)
    # Who it is for: the order's accountant when it was raised; empty: every accountant.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("recipient"))
    # The email: written before it is sent, so a job run twice sends nothing twice (DESIGN Rule 16).
    emailed_to = models.CharField(_("emailed to"), max_length=1000, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("dealt with at"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("dealt with by"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    # When the condition stopped holding: the next crossing raises a new alert.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            # At most one alert per line and kind until the condition stops holding: two scans at once
            # (two workers) raise it once.
            models.UniqueConstraint(fields=["sale_line", "kind"], condition=Q(ended_at__isnull=True),
                                    name="alert_once_per_crossing"),
        ]
        indexes = [models.Index(fields=["cleared_at", "ended_at"], name="alert_open")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.sale_line}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None and self.ended_at is None
