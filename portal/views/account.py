"""Signing in to the portal, and the one-time links: choose a password (an invitation's or a reset's link), and
"Forgot your password?", which answers the same whether or not the address has an account."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from sales.contacts import contact_set_password, link_user, password_reset_request
from sales.selectors import contact_of

from ..forms import ForgotPasswordForm, PasswordSetForm, PortalLoginForm
from .base import add_service_error, company, page

LINK_HOURS = settings.PASSWORD_RESET_TIMEOUT // 3600


class PortalLoginView(LoginView):
    """/portal/login/: contacts only (PortalLoginForm), throttled as /login/ is; then their portal, or the page
    they were sent here from. A contact already signed in goes straight on."""

    template_name = "portal/login.html"
    authentication_form = PortalLoginForm
    next_page = "portal_home"

    def dispatch(self, request, *args, **kwargs):
        if contact_of(request.user) is not None:
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "contact": None, "company": company(self.request)}


@never_cache
def password_forgot(request):
    """Email a new link to a contact with this address; the page says the same for any address."""
    form = ForgotPasswordForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"], site=request.build_absolute_uri("/"))
        return page(request, "portal/password_sent.html", {"email": form.cleaned_data["email"], "hours": LINK_HOURS})
    return page(request, "portal/password_forgot.html", {"form": form}, status=400 if form.is_bound else 200)


@sensitive_post_parameters("password1", "password2")
@never_cache
def password_set(request, uidb64, token):
    """Choose a password through the emailed link (once, for PASSWORD_RESET_TIMEOUT), then into the portal."""
    user = link_user(uidb64, token)
    if user is None:
        return page(request, "portal/password_link_used.html", status=400)
    form = PasswordSetForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            user = contact_set_password(uidb64=uidb64, token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            if "token" in getattr(error, "error_dict", {}):
                return page(request, "portal/password_link_used.html", status=400)
            add_service_error(form, error, rename={"password": "password1"})
        else:
            login(request, user, backend="core.permissions.GroupsBackend")
            messages.success(request, _("Your password is set. Welcome, {name}.").format(
                name=user.get_full_name() or user.email))
            return redirect("portal_home")
    return page(request, "portal/password_set.html", {"form": form, "link_user": user},
                status=400 if form.is_bound else 200)
