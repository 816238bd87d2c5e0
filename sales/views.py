"""Sales screens: the Sales Orders list and the quotation form.

Also the few helpers every app's screens share (sales is the app all others may import):
`page` renders with the top bar of the user's role, `refuse_unless` answers 403,
`show_refusal` turns a service's refusal into a message. Views call services and
selectors only; what is allowed is decided there and in core.permissions' rules.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.limits import MAX_ID, SEARCH_LENGTH
from core.roles import is_accountant, is_agent, is_manager

from .forms import DeliveredForm, OrderLineFormSet, QuotationForm, add_service_error
from .models import SaleOrder, SaleOrderLine
from .services import sale_line_set_delivered_manual, sale_order_confirm, sale_order_save_quotation

PER_PAGE = 25


# --- Shared by the screens of every app ---------------------------------------------

def nav(user) -> dict:
    """What the top bar offers the user's role."""
    if is_manager(user):
        role = "Manager"
    elif is_accountant(user):
        role = "Accountant"
    elif is_agent(user):
        role = "Agent"
    else:
        role = ""
    return {"role": role, "orders": user.has_perm("sales.sell"), "invoices": user.has_perm("invoicing.bill"),
            "admin": is_manager(user) and user.is_staff}


def page(request, template: str, context: dict | None = None, status: int = 200):
    """Render a screen with the top bar of the user's role."""
    return render(request, template, {"nav": nav(request.user), **(context or {})}, status=status)


def refuse_unless(allowed: bool, message: str = "Your role does not allow this.") -> None:
    """Answer 403 with `message` unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)


def show_refusal(request, error: ValidationError) -> None:
    """Show a service's refusal (ValidationError or Conflict) as an error message."""
    messages.error(request, " ".join(error.messages))


def act(request, call, success):
    """Run a service for a POST action: its refusal becomes an error message, its result a success one.

    `success` is the message, or a function of the service's result returning it.
    Return the result, or None when the service refused.
    """
    try:
        result = call()
    except ValidationError as error:
        show_refusal(request, error)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def record_id(value) -> int | None:
    """Return `value` as a record id when it is one (1 to 19 ASCII digits, at most MAX_ID), else None.

    str.isdigit() alone also passes "²" and a hundred thousand digits, which int() refuses.
    """
    if isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        return int(value) if int(value) <= MAX_ID else None
    return None



def search_text(request) -> str:
    """Return the search box's text, without NUL characters (no database text holds one: PostgreSQL refuses it),
    cut to SEARCH_LENGTH characters."""
    return request.GET.get("q", "").replace("\x00", "")[:SEARCH_LENGTH].strip()


def paginate(request, queryset, per_page: int = PER_PAGE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- Sales Orders -------------------------------------------------------------------

STATES = [("", "All"), *SaleOrder.State.choices]


@login_required
def order_list(request, orders=None):
    """List the sales orders; `orders` are those the user may see (routed by invoicing.views.order_list)."""
    orders = (SaleOrder.objects.all() if orders is None else orders).select_related("customer").annotate(line_count=Count("lines")).order_by("-pk")
    state = request.GET.get("state", "")
    if state in SaleOrder.State.values:
        orders = orders.filter(state=state)
    search = search_text(request)
    if search:
        orders = orders.filter(Q(name__icontains=search) | Q(customer__name__icontains=search))
    return page(request, "sales/order_list.html", {
        "page_obj": paginate(request, orders), "state": state, "states": STATES, "search": search,
        "may_sell": request.user.has_perm("sales.sell"),
    })


@login_required
def quotation_form(request, pk=None):
    """Create a quotation, or change one that is not confirmed yet; "Confirm" saves and confirms."""
    refuse_unless(request.user.has_perm("sales.sell"), "Only managers and accountants make quotations.")
    order = SaleOrder() if pk is None else get_object_or_404(SaleOrder, pk=pk)
    if order.pk and order.state != SaleOrder.State.DRAFT:
        messages.info(request, f"{order.name} is {order.get_state_display().lower()}: its Order Lines stay as sold.")
        return redirect("order_detail", pk=order.pk)
    form = QuotationForm(request.POST or None, instance=order)
    lines = OrderLineFormSet(request.POST or None, instance=order, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        changed = lines.save(commit=False)
        new = form.instance.pk is None
        try:
            order = sale_order_save_quotation(order=form.instance, lines=changed, deleted=lines.deleted_objects)
        except ValidationError as error:
            if new:  # rolled back: the page goes on showing a new quotation
                form.instance.pk = form.instance.name = None
            add_service_error(form, error)
        else:
            if "confirm" in request.POST:
                try:
                    order = sale_order_confirm(order=order, actor=request.user)
                except ValidationError as error:
                    show_refusal(request, error)
                    return redirect("quotation_edit", pk=order.pk)
                messages.success(request, f"{order.name} is confirmed: it is a sales order now.")
            else:
                messages.success(request, f"Quotation {order.name} saved.")
            return redirect("order_detail", pk=order.pk)
    return page(request, "sales/quotation_form.html", {"order": order, "form": form, "lines": lines})


@login_required
@require_POST
def order_confirm(request, pk):
    refuse_unless(request.user.has_perm("sales.sell"), "Only managers and accountants confirm quotations.")
    order = get_object_or_404(SaleOrder, pk=pk)
    act(request, lambda: sale_order_confirm(order=order, actor=request.user), f"{order.name} is confirmed: it is a sales order now.")
    return redirect("order_detail", pk=order.pk)


@login_required
@require_POST
def line_set_delivered(request, pk):
    """Type the Delivered quantity of a "Based on Delivered Quantity (Manual)" line."""
    refuse_unless(request.user.has_perm("sales.sell"), "Only managers and accountants set what was delivered.")
    line = get_object_or_404(SaleOrderLine.objects.select_related("order", "product"), pk=pk)
    form = DeliveredForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a delivered quantity of 0 or more, like 3 or 2.50.")
    else:
        try:
            line = sale_line_set_delivered_manual(line=line, qty=form.cleaned_data["delivered"])
        except ValidationError as error:
            show_refusal(request, error)
        else:
            unit = line.get_uom_display().lower()
            messages.success(request, f"Delivered set to {line.qty_delivered_manual:.2f} {unit} "
                                      f"on {line.order.name} · {line.name or line.product}.")
    return redirect("order_detail", pk=line.order_id)
