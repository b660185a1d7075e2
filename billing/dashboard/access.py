"""Who may see an account's dashboard pages: a signed-in user with a membership of a customer,
whose role may use the page's area (docs/dashboard.md#roles): another role gets the 403 page.
Pages answer GET, HEAD and OPTIONS to a role that may read the area; anything else is a change
and needs full use of it."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from billing.models import Membership
from billing.roles import act_as_user, area_of, may
from billing.selectors import customer_for_user
from sent_project.errors import SentError


def customer_required(view: Callable) -> Callable:
    """Login required, and the user must belong to a customer: sets `request.customer`.

    A selector's not-found error (a missing object, or another customer's) becomes the 404 page.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        customer = customer_for_user(request.user)
        if customer is None:
            return render(request, "no_account.html", status=403)
        membership = request.user.membership
        if membership.status != Membership.Status.ACTIVE:
            return render(request, "no_account.html", status=403)
        area = area_of(request.resolver_match.view_name) if request.resolver_match else ""
        write = request.method not in ("GET", "HEAD", "OPTIONS")
        if not may(membership.role, area, write=write):
            return render(request, "403.html", {"role": membership.role}, status=403)
        request.customer = customer
        request.membership = membership
        act_as_user(membership)
        # Two-factor sign-in: a session of a user who has it must have proved it; an account
        # that requires it sends a user without it to set it up (docs/dashboard.md#two-factor-sign-in).
        has_device = membership.two_factor
        if has_device and not request.user.is_verified():
            logout(request)
            return redirect_to_login(request.get_full_path())
        if customer.require_two_factor and not has_device and area != "security":
            return redirect("billing:security")
        try:
            response = view(request, *args, **kwargs)
        except SentError as error:
            if error.status == 404:
                raise Http404(error.message) from None
            raise
        # The same URL answers a fragment to htmx and a page otherwise: never let a cache
        # (or the back button) serve one for the other.
        patch_vary_headers(response, ("HX-Request",))
        return response

    return wrapper
