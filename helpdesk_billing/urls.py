from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("", include("web.urls")),
]

# A database outage answers 503 with a message, also when it strikes outside a view.
handler500 = "helpdesk_billing.health.server_error"
