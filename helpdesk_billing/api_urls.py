"""REST API v1 routes (/api/v1/), its OpenAPI schema and its interactive docs."""

from django.urls import Resolver404, path, re_path, resolve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from invoicing.api import InvoiceViewSet, SaleOrderViewSet
from projects.api import ProjectViewSet, TaskViewSet
from sales.api import CustomerViewSet, ProductViewSet, TaxViewSet
from tickets.api import TeamViewSet, TicketViewSet
from timesheets.api import TimeEntryViewSet


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("customers", CustomerViewSet, basename="customer")
router.register("taxes", TaxViewSet, basename="tax")
router.register("products", ProductViewSet, basename="product")
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")
router.register("teams", TeamViewSet, basename="team")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("sale-orders", SaleOrderViewSet, basename="sale-order")
router.register("timesheets", TimeEntryViewSet, basename="timesheet")
router.register("invoices", InvoiceViewSet, basename="invoice")


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, path=""):
    """Answer unknown API paths in JSON, like every other API error (and never redirect a POST)."""
    try:
        with_slash = resolve(f"{request.path}/").func is not not_found
    except Resolver404:
        with_slash = False
    if with_slash and not path.endswith("/"):
        raise NotFound(f"There is no /api/v1/{path} in this API: did you mean /api/v1/{path}/ (with a slash)?")
    raise NotFound(f"There is no /api/v1/{path} in this API.")


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
    re_path(r"^(?P<path>.*)$", not_found),
]
