from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("helpdesk_billing.api_urls")),
    path("", include("helpdesk_billing.web_urls")),
]
