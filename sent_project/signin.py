"""Signing in to the dashboard: Django's login, throttled (docs/operations.md#sign-in-throttling),
with a second step for users who have two-factor sign-in (docs/dashboard.md#two-factor-sign-in).

After LOGIN_MAX_FAILURES failed attempts for one username, or from one address, further
attempts are refused for LOGIN_LOCKOUT_SECONDS, even with the right password. The counters
are in the cache and are kept for a username whether or not it exists, and the refusal reads
the same for both, so the form tells nobody which usernames are real.
"""

from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

LOCKED_MESSAGE = "Too many failed sign-ins. Wait {minutes} minutes, then try again."


def _keys(request, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    return [f"signin:user:{username.strip().lower()[:150]}", f"signin:ip:{address}"]


def _locked(keys: list[str]) -> bool:
    return any(cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES for key in keys)


def _failed(keys: list[str]) -> None:
    for key in keys:
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        keys = _keys(self.request, self.data.get("username", ""))
        if _locked(keys):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise ValidationError(LOCKED_MESSAGE.format(minutes=minutes), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            _failed(keys)
            raise
        cache.delete(keys[0])  # a success clears the username's count, not the address's
        return cleaned


# --- the second step: a code from the authenticator app, or a recovery code -------------------
PENDING = "sent_signin_pending"
WRONG_CODE = "That code didn't work. Use the 6 digits your app shows now, or a recovery code."


class SignInView(LoginView):
    """Username and password; then, for a user with a second factor, the code page."""

    template_name = "auth/login.html"
    authentication_form = ThrottledAuthenticationForm

    def form_valid(self, form):
        user = form.get_user()
        if not user_has_device(user, confirmed=True):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
        }
        return redirect("login_verify")


@require_http_methods(["GET", "POST"])
def sign_in_verify(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING)
    user = get_user_model().objects.filter(pk=(pending or {}).get("user"), is_active=True).first()
    if user is None:
        return redirect("login")
    error = None
    if request.method == "POST":
        keys = [f"signin:code:{user.pk}", _keys(request, "")[1]]
        if _locked(keys):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            error = LOCKED_MESSAGE.format(minutes=minutes)
        else:
            token = request.POST.get("code", "").strip().replace(" ", "")
            device = match_token(user, token) if token else None
            if device is not None:
                del request.session[PENDING]
                login(request, user, backend=pending["backend"])
                otp_login(request, device)
                return redirect(pending["next"])
            _failed(keys)
            error = WRONG_CODE
    return render(request, "auth/login_verify.html", {"error": error}, status=400 if error else 200)
