"""Who may see an account's dashboard pages: a signed-in user with a membership of a customer."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

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
        request.customer = customer
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
