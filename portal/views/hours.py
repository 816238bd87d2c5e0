"""Hours: per line of the customer's confirmed orders, ordered, delivered, invoiced and to invoice, in the line's
unit; for prepaid lines the hours remaining and their burn-down (reports.prepaid), drawn as the internal
Reports draw it (web.charts: the chart is SVG made on the server, which no template include can make)."""

from django.utils.translation import gettext as _

from reports.prepaid import burndown
from sales.models import ServicePolicy
from sales.selectors import contact_lines
from web.charts import render_chart

from .base import page, portal_view


@portal_view
def hours(request):
    lines = list(contact_lines(contact=request.contact))
    rows = []
    for line in lines:
        prepaid = line.product.service_policy == ServicePolicy.ORDERED_PREPAID
        chart = None
        if prepaid:
            label = _("Burn-down of {order} – {line}").format(order=line.order.name, line=line.name or line.product)
            chart = render_chart(burndown(line=line), label=label)
        rows.append({"line": line, "prepaid": prepaid, "chart": chart,
                     "used_up": prepaid and line.remaining <= 0})
    return page(request, "portal/hours.html", {"rows": rows, "has_prepaid": any(row["prepaid"] for row in rows)})
