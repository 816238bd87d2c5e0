from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from .health import healthz


def favicon(request):
    """Send the browser to the app's icon; its address is asked of the static files storage when asked for, not
    when the URLs load (in production the manifest exists only once collectstatic ran, after migrate)."""
    return HttpResponsePermanentRedirect(static("img/icon.svg"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask it of every page, the admin's included: the app's icon, not a 404.
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("portal/", include("portal.urls")),
    path("", include("web.urls")),
]

# A database outage answers 503 with a message, also when it strikes outside a view.
handler500 = "helpdesk_billing.health.server_error"
