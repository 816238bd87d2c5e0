"""Sales orders: the list, the quotation form and Confirm, a manual Delivered, the order page with its
rates and "Create Invoice", Create Invoice's preview, and an order line's Timesheets as CSV.

Everyone signed in reads the orders they may see; quotations, Confirm and Delivered need the rule
sales.sell, Create Invoice and its preview the rule invoicing.bill: others get the 403 page.
"""

from operator import itemgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, Sum, Value
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from core.l10n import decimal
from core.roles import is_accountant, is_manager
from invoicing.preview import invoice_preview
from invoicing.selectors import rounded_to_invoice
from invoicing.services import invoice_create_from_order
from projects.selectors import tasks_for
from sales.models import Company, SaleOrder, SaleOrderLine
from sales.selectors import sale_orders_search
from sales.services import sale_line_set_delivered_manual, sale_order_confirm, sale_order_save_quotation
from tickets.selectors import tickets_for
from timesheets.selectors import Disputed, awaiting_quantities, disputed_by_order, sale_orders_for, time_entries_for

from ..forms.orders import CreateInvoiceForm, DeliveredForm, OrderLineFormSet, QuotationForm
from .base import act, add_service_error, page, paginate, refuse_unless, search_text
from .disputes import may_resolve, order_disputes, summary
from .invoices import INVOICERS_ONLY
from .timesheets import timesheets_csv

STATES = [("", pgettext_lazy("a filter's choice", "All")), *SaleOrder.State.choices]


def _confirmed(order: SaleOrder) -> str:
    """Return the message that says `order` is confirmed."""
    return _("{order} is confirmed: it is a sales order now.").format(order=order.name)


# --- The list and the quotation form -------------------------------------------------

@login_required
def order_list(request):
    """List the sales orders the user may see."""
    orders = (sale_orders_for(user=request.user).select_related("customer").annotate(line_count=Count("lines"))
              .order_by("-pk"))
    state = request.GET.get("state", "")
    if state in SaleOrder.State.values:
        orders = orders.filter(state=state)
    search = search_text(request)
    orders = sale_orders_search(orders, search)
    return page(request, "web/orders/order_list.html", {
        "page_obj": paginate(request, orders), "state": state, "states": STATES, "search": search,
        "may_sell": request.user.has_perm("sales.sell"),
    })


@login_required
def quotation_form(request, pk=None):
    """Create a quotation, or change one that is not confirmed yet; "Confirm" saves and confirms."""
    refuse_unless(request.user.has_perm("sales.sell"), _("Only managers and accountants make quotations."))
    order = SaleOrder() if pk is None else get_object_or_404(SaleOrder, pk=pk)
    if order.pk and order.state != SaleOrder.State.DRAFT:
        messages.info(request, _("{order} is {state}: its Order Lines stay as sold.").format(
            order=order.name, state=order.get_state_display().lower()))
        return redirect("order_detail", pk=order.pk)
    form = QuotationForm(request.POST or None, instance=order)
    lines = OrderLineFormSet(request.POST or None, instance=order, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        saved = _save_quotation(form, lines)
        if saved is not None:
            return _after_save(request, saved)
    return page(request, "web/orders/quotation_form.html", {"order": order, "form": form, "lines": lines,
                                                               "currency": Company.current().currency})


def _save_quotation(form, lines) -> SaleOrder | None:
    """Save the quotation and its lines; return it, or None with the refusal shown on the form."""
    changed = lines.save(commit=False)
    new = form.instance.pk is None
    try:
        return sale_order_save_quotation(order=form.instance, lines=changed, deleted=lines.deleted_objects)
    except ValidationError as error:
        if new:  # rolled back: the page goes on showing a new quotation
            form.instance.pk = form.instance.name = None
        add_service_error(form, error)
        return None


def _after_save(request, order: SaleOrder):
    """Confirm the saved quotation when "Confirm" was clicked, and say so; a refused Confirm goes back to the form."""
    if "confirm" not in request.POST:
        messages.success(request, _("Quotation {order} saved.").format(order=order.name))
    elif act(request, lambda: sale_order_confirm(order=order, actor=request.user), _confirmed) is None:
        return redirect("quotation_edit", pk=order.pk)
    return redirect("order_detail", pk=order.pk)


@login_required
@require_POST
def order_confirm(request, pk):
    refuse_unless(request.user.has_perm("sales.sell"), _("Only managers and accountants confirm quotations."))
    order = get_object_or_404(SaleOrder, pk=pk)
    act(request, lambda: sale_order_confirm(order=order, actor=request.user), _confirmed(order))
    return redirect("order_detail", pk=order.pk)


@login_required
@require_POST
def line_set_delivered(request, pk):
    """Type the Delivered quantity of a "Based on Delivered Quantity (Manual)" line."""
    refuse_unless(request.user.has_perm("sales.sell"), _("Only managers and accountants set what was delivered."))
    line = get_object_or_404(SaleOrderLine.objects.select_related("order", "product"), pk=pk)
    form = DeliveredForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a delivered quantity of 0 or more, like 3 or 2.50."))
    else:
        act(request, lambda: sale_line_set_delivered_manual(line=line, qty=form.cleaned_data["delivered"]),
            lambda line: _("Delivered set to {quantity} {unit} on {order} · {line}.").format(
                quantity=decimal(line.qty_delivered_manual), unit=line.get_uom_display().lower(),
                order=line.order.name, line=line.name or line.product))
    return redirect("order_detail", pk=line.order_id)


# --- The order page and Create Invoice -----------------------------------------------

def _with_awaiting(lines: list[SaleOrderLine]) -> list[SaleOrderLine]:
    """Mark each line with its time awaiting approval (Rule 11), in its unit as Delivered is shown: one query;
    and, when its product rounds per ticket (Rule 14), what Create Invoice would bill of its To invoice."""
    awaiting, rounded = awaiting_quantities(lines=lines), rounded_to_invoice(lines=lines)
    for line in lines:
        line.awaiting = awaiting.get(line.pk)
        line.rounded = rounded.get(line.pk)
    return lines


def _rates(order: SaleOrder, lines: list[SaleOrderLine]) -> dict:
    """Return the order's Rates by agent and by work type (Rule 13) as [(agent or work type, the line it bills)].

    One query for both (a UNION); their lines are the page's, a rate mapping to a line of its own order.
    """
    blank = Value("", output_field=CharField())
    by_agent = order.agent_rates.annotate(kind=Value("agent_rates")).values_list(
        "kind", "pk", "user__first_name", "user__last_name", "user__username", "sale_line_id").order_by()
    by_type = order.work_type_rates.annotate(kind=Value("work_type_rates"), a=blank, b=blank).values_list(
        "kind", "pk", "work_type__name", "a", "b", "sale_line_id").order_by()
    line_of = {line.pk: line for line in lines}
    rates = {"agent_rates": [], "work_type_rates": []}
    rows = sorted(by_agent.union(by_type, all=True).order_by(), key=itemgetter(0, 1))  # each kind, as entered
    for kind, _pk, name, last_name, username, line_id in rows:
        who = f"{name} {last_name}".strip() or username  # an agent as get_full_name() gives it, else a work type
        rates[kind].append((who, line_of.get(line_id)))
    return rates


def _order_page(request, order: SaleOrder, invoice_form: CreateInvoiceForm):
    user = request.user
    lines = _with_awaiting(list(order.lines.select_related("product", "tax")))
    disputes = order_disputes(order=order, user=user)
    return page(request, "web/orders/order_detail.html", {
        **_rates(order, lines),
        # A link to the admin, where managers and accountants edit rates (core.roles.GROUPS); the roles
        # are read once per request, so asking costs no query.
        "can_edit_rates": user.is_staff and bool(is_manager(user) or is_accountant(user)),
        "currency": Company.current().currency,  # orders are in the company's currency: read once per page
        "order": order,
        "lines": lines,
        "tickets": list(tickets_for(user=user).filter(sale_line__order=order)
                        .annotate(minutes_spent=Sum("time_entries__minutes")).order_by("pk")),
        "tasks": list(tasks_for(user=user).filter(sale_line__order=order)
                      .annotate(minutes_spent=Sum("time_entries__minutes")).order_by("pk")),
        "invoices": list(order.invoices.select_related("refers")),
        "invoice_form": invoice_form,
        # Create Invoice is offered only when it has something to bill (or to show why it refused).
        "something_to_invoice": any(line.to_invoice > 0 for line in lines),
        "awaiting_approval": any(line.awaiting for line in lines),
        "can_invoice": user.has_perm("invoicing.bill"),
        "may_sell": user.has_perm("sales.sell"),
        # The customer's open disputes of this order's time (issue 18), and what they hold out of invoices.
        "disputes": disputes,
        "disputed": summary(disputes),
        "can_resolve": may_resolve(user),
    })


@login_required
def order_detail(request, pk):
    order = get_object_or_404(sale_orders_for(user=request.user).select_related("customer", "accountant"), pk=pk)
    return _order_page(request, order, CreateInvoiceForm())


def _order_to_invoice(request, pk) -> SaleOrder:
    """Return the order for Create Invoice or its preview: 403 unless the user invoices (invoicing.bill)."""
    refuse_unless(request.user.has_perm("invoicing.bill"), INVOICERS_ONLY)
    return get_object_or_404(SaleOrder.objects.select_related("customer"), pk=pk)


@login_required
@require_POST
def invoice_create(request, pk):
    """"Create Invoice": a draft billing what the order has to invoice, Timesheets within the period."""
    order = _order_to_invoice(request, pk)
    form = CreateInvoiceForm(request.POST)
    if form.is_valid():
        try:
            invoice = invoice_create_from_order(order=order, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("{invoice} created: check it, then post it.").format(invoice=invoice))
            return redirect("invoice_detail", pk=invoice.pk)
    return _order_page(request, order, form)


@login_required
def invoice_preview_view(request, pk):
    """What Create Invoice would create for the period, changing nothing: its lines with their explanation and
    totals, or its refusal; the time it would leave out and why; and the button that creates it.

    A period that is not one (a bad date, an end before the start) answers 400 with the form's message.
    """
    order = _order_to_invoice(request, pk)
    form = CreateInvoiceForm(request.GET)
    preview = None
    if form.is_valid():
        try:
            preview = invoice_preview(order=order, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
    left_out = preview["left_out"] if preview else {"reasons": [], "examples": []}
    return page(request, "web/orders/invoice_preview.html", {
        "order": order,
        "currency": Company.current().currency,
        "form": form,
        "preview": preview,
        "left_out": left_out,
        "left_out_entries": sum(row["entries"] for row in left_out["reasons"]),
        "left_out_minutes": sum(row["minutes"] for row in left_out["reasons"]),
        "disputed": disputed_by_order([order.pk]).get(order.pk, Disputed()),
    }, status=200 if preview is not None else 400)


@login_required
def line_timesheets_csv(request, pk):
    lines = SaleOrderLine.objects.filter(order__in=sale_orders_for(user=request.user).values("pk"))
    line = get_object_or_404(lines.select_related("order"), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(sale_line=line),
                          f"{line.order.name}-line-{line.pk}-timesheets.csv")
