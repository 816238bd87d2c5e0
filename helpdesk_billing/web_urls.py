"""Browser screens for agents and accountants; every one needs a login."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from audit.forms import LoginForm
from tickets.views import home

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("tickets.urls")),
    path("", include("timesheets.urls")),
    path("", include("projects.urls")),
    path("", include("sales.urls")),
    path("", include("invoicing.urls")),
]
