"""The users page (admins only: invite, re-invite, revoke, change role, remove), the audit log
page and its CSV export, and the invitation link (public: set a password, then signed in)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from billing import audit
from billing.dashboard.access import customer_required
from billing.models import Membership
from billing.roles import acting
from billing.users import (
    InvitationState,
    invitation_accept,
    invitation_by_token,
    invitation_revoke,
    user_invite,
    user_reinvite,
    user_remove,
    user_set_status,
    user_update_role,
    users_for,
)
from sent_project.dashboard import (
    DashboardForm,
    csv_response,
    form_add_sent_error,
    go_to,
    list_page,
)
from sent_project.errors import SentError


class InviteForm(DashboardForm):
    email = forms.EmailField(label="Email")
    name = forms.CharField(label="Name", max_length=150)
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


@customer_required
@require_http_methods(["GET", "POST"])
def user_list(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            membership = user_invite(request.customer, acting(), **form.cleaned_data)
        except SentError as error:
            form_add_sent_error(form, error)
            status = error.status if error.status == 429 else 400  # the rate limit says so
        else:
            messages.success(request, f"Invitation sent to {membership.user.email}.")
            return go_to(request, "billing:user_list")
    elif form.errors:
        status = 400
    context = {
        "form": form,
        "page": list_page(request, users_for(request.customer), size=50),
        "roles": Membership.Role.choices,
        "me": request.membership,
    }
    return render(request, "billing/user_list.html", context, status=status)


def _user_action(request: HttpRequest, action, done: str) -> HttpResponse:
    try:
        action()
    except SentError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return go_to(request, "billing:user_list")


@customer_required
@require_POST
def user_role(request: HttpRequest, user_id) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return go_to(request, "billing:user_list")
    role = form.cleaned_data["role"]
    return _user_action(
        request,
        lambda: user_update_role(request.customer, acting(), user_id=user_id, role=role),
        "Role changed.",
    )


@customer_required
@require_POST
def user_status_view(request: HttpRequest, user_id) -> HttpResponse:
    """Suspend (`status=suspended`) or reactivate (`status=active`) a user."""
    status = request.POST.get("status", "")
    return _user_action(
        request,
        lambda: user_set_status(request.customer, acting(), user_id=user_id, status=status),
        "User suspended." if status == Membership.Status.SUSPENDED else "User reactivated.",
    )


@customer_required
@require_POST
def user_remove_view(request: HttpRequest, user_id) -> HttpResponse:
    return _user_action(
        request,
        lambda: user_remove(request.customer, acting(), user_id=user_id),
        "User removed.",
    )


@customer_required
@require_POST
def user_reinvite_view(request: HttpRequest, user_id) -> HttpResponse:
    return _user_action(
        request,
        lambda: user_reinvite(request.customer, acting(), user_id=user_id),
        "Invitation sent again (the earlier link no longer works).",
    )


@customer_required
@require_POST
def user_revoke_view(request: HttpRequest, user_id) -> HttpResponse:
    return _user_action(
        request,
        lambda: invitation_revoke(request.customer, acting(), user_id=user_id),
        "Invitation revoked.",
    )


@customer_required
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    entries = audit.audit_log_for(request.customer, action=action)
    page = list_page(request, entries, size=50)
    return render(request, "billing/audit_log.html", {"page": page, "action": action})


@customer_required
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    entries = audit.audit_log_for(request.customer, action=request.GET.get("action", ""))
    rows = (audit.csv_row(entry) for entry in entries.iterator(chunk_size=2000))
    return csv_response("audit-log.csv", audit.CSV_COLUMNS, rows)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation email: choose a password, then signed in. A used, expired or
    unknown link gets a page saying so (410), and asks the inviter for a new one."""
    found, state = invitation_by_token(token)
    if state != InvitationState.VALID:
        return render(request, "billing/invitation_invalid.html", {"state": state}, status=410)
    user = found.membership.user
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted = invitation_accept(token, password=form.cleaned_data["new_password1"])
        if accepted is None:  # used in the meantime
            return render(
                request, "billing/invitation_invalid.html", {"state": InvitationState.USED}, 410
            )
        login(request, accepted, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {found.membership.customer.name}.")
        return go_to(request, "home")
    context = {"form": form, "invitation": found, "invited": user}
    return render(request, "billing/invitation.html", context)
