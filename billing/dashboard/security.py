"""Your own sign-in security (every role): set up or turn off two-factor sign-in, new recovery
codes; admins also require it for the whole account (docs/dashboard.md#two-factor-sign-in)."""

from django_otp import login as otp_login

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from billing import two_factor
from billing.dashboard.access import customer_required
from billing.roles import acting, may
from sent_project.dashboard import go_to


@customer_required
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    user, customer = request.user, request.customer
    context: dict = {"customer": customer, "is_admin": may(request.membership.role, "users")}
    action = request.POST.get("action", "")
    if action == "confirm":
        codes = two_factor.totp_confirm(user, token=request.POST.get("code", ""))
        if codes is None:
            context["error"] = "That code didn't work: type the 6 digits your app shows now."
        else:
            device = user.totpdevice_set.get(confirmed=True)
            otp_login(request, device)  # this session has just proved the second factor
            context["codes"] = codes
    elif action == "recovery":
        context["codes"] = two_factor.recovery_codes_reset(user)
    elif action == "disable":
        if two_factor.two_factor_disable(user):
            messages.success(request, "Two-factor sign-in is off.")
        else:
            messages.error(request, "Your account requires two-factor sign-in.")
        return go_to(request, "billing:security")
    elif action in ("require", "allow") and context["is_admin"]:
        two_factor.two_factor_require(customer, acting(), required=action == "require")
        messages.success(request, "Saved.")
        return go_to(request, "billing:security")
    context["enabled"] = two_factor.has_two_factor(user)
    if not context["enabled"]:
        device = two_factor.totp_pending(user)
        context["secret"] = two_factor.secret_for_app(device)
        context["config_url"] = device.config_url
    status = 400 if context.get("error") else 200
    return render(request, "billing/security.html", context, status=status)
