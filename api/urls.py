"""REST API v1 routes (/api/v1/), its OpenAPI schema and its interactive docs."""

from django.conf import settings
from django.urls import Resolver404, path, re_path, resolve
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from .company import CompanyView
from .configuration import (
    CustomerViewSet,
    ProductViewSet,
    ProjectViewSet,
    TaskViewSet,
    TaxViewSet,
    TeamViewSet,
    WorkTypeViewSet,
)
from .contacts import ContactViewSet
from .disputes import DisputeViewSet
from .invoices import InvoiceViewSet
from .orders import SaleOrderViewSet
from .portal import (
    PortalInvoiceViewSet,
    PortalLineViewSet,
    PortalMeView,
    PortalTeamViewSet,
    PortalTicketViewSet,
    PortalTimesheetViewSet,
)
from .reports import (
    AlertClearView,
    AlertListView,
    BurndownView,
    OverviewView,
    PrepaidReportView,
    RevenueReportView,
    TimeEntriesView,
    TimeReportView,
    UnbilledReportView,
)
from .runs import BillingRunViewSet
from .tickets import TicketViewSet
from .timesheets import TimeEntryViewSet
from .week import WeekView


class Router(DefaultRouter):
    include_format_suffixes = False


# Swagger UI's page has an inline <style>: its page allows inline styles (its scripts stay files).
SWAGGER_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
# ReDoc starts from an inline script and injects its styles and a worker: its page alone allows them.
REDOC_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

router = Router()
router.register("customers", CustomerViewSet, basename="customer")
router.register("taxes", TaxViewSet, basename="tax")
router.register("products", ProductViewSet, basename="product")
router.register("work-types", WorkTypeViewSet, basename="work-type")
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")
router.register("teams", TeamViewSet, basename="team")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("sale-orders", SaleOrderViewSet, basename="sale-order")
router.register("timesheets", TimeEntryViewSet, basename="timesheet")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("billing-runs", BillingRunViewSet, basename="billing-run")
# The customer portal (issue 18): customers' contacts, their disputes of time; and the portal's own API, for contacts.
router.register("contacts", ContactViewSet, basename="contact")
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("portal/teams", PortalTeamViewSet, basename="portal-team")
router.register("portal/tickets", PortalTicketViewSet, basename="portal-ticket")
router.register("portal/timesheets", PortalTimesheetViewSet, basename="portal-timesheet")
router.register("portal/lines", PortalLineViewSet, basename="portal-line")
router.register("portal/invoices", PortalInvoiceViewSet, basename="portal-invoice")


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
        raise NotFound(_("There is no /api/v1/{path} in this API: did you mean /api/v1/{path}/ (with a slash)?").format(
            path=path))
    raise NotFound(_("There is no /api/v1/{path} in this API.").format(path=path))


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, which the Content Security Policy allows.
    path("docs/", csp_override(SWAGGER_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("redoc/", csp_override(REDOC_CSP)(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("company/", CompanyView.as_view(), name="company"),
    path("reports/time/", TimeReportView.as_view(), name="report-time"),
    path("reports/time/entries/", TimeEntriesView.as_view(), name="report-time-entries"),
    path("reports/unbilled/", UnbilledReportView.as_view(), name="report-unbilled"),
    path("reports/revenue/", RevenueReportView.as_view(), name="report-revenue"),
    path("reports/prepaid/", PrepaidReportView.as_view(), name="report-prepaid"),
    re_path(r"^reports/prepaid/(?P<line_id>[0-9]{1,18})/burndown/$", BurndownView.as_view(),
            name="report-prepaid-burndown"),
    path("overview/", OverviewView.as_view(), name="overview"),
    path("alerts/", AlertListView.as_view(), name="alert-list"),
    re_path(r"^alerts/(?P<pk>[0-9]{1,18})/clear/$", AlertClearView.as_view(), name="alert-clear"),
    # Before the router's, whose /timesheets/{id}/ would take "week" for an id.
    path("timesheets/week/", WeekView.as_view(), name="timesheets-week"),
    path("portal/me/", PortalMeView.as_view(), name="portal-me"),
    *router.urls,
    re_path(r"^(?P<path>.*)$", not_found),
]
