from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask it of every page, the admin's included: the app's icon, not a 404.
    path("favicon.ico", RedirectView.as_view(url=static("img/icon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("", include("web.urls")),
]

# A database outage answers 503 with a message, also when it strikes outside a view.
handler500 = "helpdesk_billing.health.server_error"
