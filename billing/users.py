"""The people of an account: invite, re-invite, revoke, accept, change role, suspend and
reactivate, remove (docs/api/users.md). The API and the dashboard share these functions.

The rules, checked here and not only by the pages: only admins (or an API key, which acts for
the whole account) manage users; nobody changes their own role or removes themselves; the
account's last active admin can't be demoted or removed. An invitation is a one-time link,
valid `INVITATION_DAYS` days, sent by email after the change commits; an account sends at
most `INVITATIONS_PER_HOUR` invitations and re-invites in any hour.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from billing import audit
from billing.errors import (
    AlreadyMember,
    InvitationNotPending,
    LastAdmin,
    OwnAccess,
    StatusNotChangeable,
    TooManyInvitations,
    UserNotFound,
)
from billing.models import AuditEntry, Customer, Invitation, Membership
from billing.roles import Actor, require
from sent_project.errors import InvalidChoice

INVITATION_DAYS = 7
Status = Membership.Status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def users_for(customer: Customer) -> QuerySet[Membership]:
    """The account's users, invited ones included, oldest first."""
    return (
        Membership.objects.filter(customer=customer)
        .select_related("user")
        .order_by("created_at", "id")
    )


def user_get(customer: Customer, *, user_id) -> Membership:
    try:
        return users_for(customer).get(public_id=user_id)
    except (Membership.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise UserNotFound() from None  # unknown, another account's, or not an id


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise InvalidChoice(
            details={"role": [f"Must be one of {', '.join(Membership.Role.values)}"]}
        )


def _check_invitation_rate(customer: Customer) -> None:
    """At most `INVITATIONS_PER_HOUR` invitations (first ones and re-invites) per account in
    any hour, counted from the audit log (which revoking doesn't shorten): 429 USER_006,
    with Retry-After until the oldest one counted leaves the hour."""
    limit = settings.INVITATIONS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    sent = AuditEntry.objects.filter(
        customer=customer,
        action__in=[audit.USER_INVITED, audit.USER_REINVITED],
        created_at__gt=since,
    ).order_by("created_at")
    times = list(sent.values_list("created_at", flat=True)[: limit + 1])
    if len(times) >= limit:
        wait = times[len(times) - limit] - since
        raise TooManyInvitations(
            f"Too many invitations: at most {limit} an hour for an account, try again later",
            headers={
                "Retry-After": str(max(1, int(wait.total_seconds()) + 1)),
                "x-should-retry": "false",
            },
        )


def _send_invitation(membership: Membership, actor: Actor | None) -> str:
    """A new one-time link for `membership` (earlier ones stop working); emailed on commit."""
    now = timezone.now()
    membership.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        membership=membership,
        token_hash=_hash(token),
        invited_by=actor.user if actor else None,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    link = f"{settings.SITE_URL}/invitations/{token}/"
    context = {
        "name": membership.user.first_name,
        "account": membership.customer.name,
        "role": membership.role,
        "link": link,
        "days": INVITATION_DAYS,
        "inviter": actor.label if actor else "Sent",
    }
    email = membership.user.email
    subject = f"You're invited to {membership.customer.name} on Sent"
    body = render_to_string("billing/email/invitation.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return token


def user_invite(customer: Customer, actor: Actor | None, *, email: str, name: str, role: str):
    """Invite `email` as `role`: an invited user and an emailed link. An email that already has
    a user (here or in another account) is refused (USER_003); re-invite a pending one."""
    require(actor, "users")
    _check_role(role)
    email = email.strip().lower()
    User = get_user_model()
    with transaction.atomic():
        _lock_account(customer)  # one invitation at a time per account: the rate limit holds
        _check_invitation_rate(customer)
        if (
            User.objects.filter(username__iexact=email).exists()
            or User.objects.filter(email__iexact=email).exists()
        ):
            raise AlreadyMember()
        user = User(username=email, email=email, first_name=name.strip()[:150], is_active=False)
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(
            user=user,
            customer=customer,
            role=role,
            status=Status.INVITED,
            invited_at=timezone.now(),
        )
        _send_invitation(membership, actor)
        audit.record(customer, audit.USER_INVITED, target=email, detail={"role": role}, actor=actor)
    return membership


def user_reinvite(customer: Customer, actor: Actor | None, *, user_id) -> Membership:
    """A fresh link (7 days again) for a user still invited; the old link stops working."""
    require(actor, "users")
    with transaction.atomic():
        _lock_account(customer)
        membership = user_get(customer, user_id=user_id)
        if membership.status != Status.INVITED:
            raise InvitationNotPending()
        _check_invitation_rate(customer)
        membership.invited_at = timezone.now()
        membership.save(update_fields=["invited_at", "updated_at"])
        _send_invitation(membership, actor)
        audit.record(customer, audit.USER_REINVITED, target=membership.user.email, actor=actor)
    return membership


def invitation_revoke(customer: Customer, actor: Actor | None, *, user_id) -> None:
    """Withdraw a pending invitation: its link stops working and the invited user goes."""
    require(actor, "users")
    with transaction.atomic():
        membership = user_get(customer, user_id=user_id)
        if membership.status != Status.INVITED:
            raise InvitationNotPending()
        email = membership.user.email
        membership.user.delete()
        audit.record(customer, audit.INVITATION_REVOKED, target=email, actor=actor)


def _lock_account(customer: Customer) -> None:
    """Role changes and removals of one account happen one at a time (the last-admin rule)."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


def _other_active_admins(customer: Customer, membership: Membership) -> int:
    return (
        Membership.objects.filter(
            customer=customer, role=Membership.Role.ADMIN, status=Status.ACTIVE
        )
        .exclude(pk=membership.pk)
        .count()
    )


def _is_last_admin(customer: Customer, membership: Membership) -> bool:
    return (
        membership.role == Membership.Role.ADMIN
        and membership.status == Status.ACTIVE
        and _other_active_admins(customer, membership) == 0
    )


def _is_self(actor: Actor | None, membership: Membership) -> bool:
    return (
        actor is not None and actor.membership is not None and actor.membership.pk == membership.pk
    )


def user_update_role(customer: Customer, actor: Actor | None, *, user_id, role: str):
    require(actor, "users")
    _check_role(role)
    with transaction.atomic():
        _lock_account(customer)
        membership = user_get(customer, user_id=user_id)
        if _is_self(actor, membership):
            raise OwnAccess()
        if membership.role == role:
            return membership
        if role != Membership.Role.ADMIN and _is_last_admin(customer, membership):
            raise LastAdmin()
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit.record(
            customer,
            audit.USER_ROLE_CHANGED,
            target=membership.user.email,
            detail={"from": before, "to": role},
            actor=actor,
        )
    return membership


def user_remove(customer: Customer, actor: Actor | None, *, user_id) -> None:
    """Remove a user's access (their Django user goes too, unless a superuser of the site)."""
    require(actor, "users")
    with transaction.atomic():
        _lock_account(customer)
        membership = user_get(customer, user_id=user_id)
        if _is_self(actor, membership):
            raise OwnAccess()
        if _is_last_admin(customer, membership):
            raise LastAdmin()
        email = membership.user.email or membership.user.get_username()
        if membership.user.is_superuser:
            membership.delete()
        else:
            membership.user.delete()
        audit.record(customer, audit.USER_REMOVED, target=email, actor=actor)


def user_set_status(customer: Customer, actor: Actor | None, *, user_id, status: str):
    """Suspend an active user (`suspended`) or reactivate a suspended one (`active`). A
    suspended user can't sign in, and their open sessions stop working at once (their Django
    user is inactive, which the auth backend refuses). The rules are those of removing:
    not yourself, not the last active admin. Asking for the status a user has is a no-op."""
    require(actor, "users")
    if status not in (Status.ACTIVE, Status.SUSPENDED):
        raise InvalidChoice(details={"status": ["Must be one of active, suspended"]})
    with transaction.atomic():
        _lock_account(customer)
        membership = user_get(customer, user_id=user_id)
        if _is_self(actor, membership):
            raise OwnAccess()
        if membership.status == status:
            return membership
        if membership.status == Status.INVITED:
            raise StatusNotChangeable()
        if status == Status.SUSPENDED and _is_last_admin(customer, membership):
            raise LastAdmin()
        membership.status = status
        membership.save(update_fields=["status", "updated_at"])
        user = membership.user
        user.is_active = status == Status.ACTIVE
        user.save(update_fields=["is_active"])
        audit.record(
            customer,
            audit.USER_SUSPENDED if status == Status.SUSPENDED else audit.USER_REACTIVATED,
            target=user.email or user.get_username(),
            actor=actor,
        )
    return membership


# --- accepting ------------------------------------------------------------------------------
class InvitationState:
    VALID, EXPIRED, USED, UNKNOWN = "valid", "expired", "used", "unknown"


def invitation_by_token(token: str) -> tuple[Invitation | None, str]:
    """The invitation of a link and whether it can still be used."""
    invitation = (
        Invitation.objects.select_related("membership__user", "membership__customer")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None:
        return None, InvitationState.UNKNOWN
    if invitation.used_at is not None or invitation.membership.status != Status.INVITED:
        return invitation, InvitationState.USED
    if invitation.revoked_at is not None:
        return invitation, InvitationState.UNKNOWN
    if invitation.expires_at <= timezone.now():
        return invitation, InvitationState.EXPIRED
    return invitation, InvitationState.VALID


def invitation_accept(token: str, *, password: str):
    """Use the link: set the password, activate the user. Returns the user, or None when the
    link is not (or no longer) valid — checked again under a lock, so a link works once."""
    with transaction.atomic():
        invitation, state = invitation_by_token(token)
        if state != InvitationState.VALID:
            return None
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.used_at is not None:
            return None
        now = timezone.now()
        locked.used_at = now
        locked.save(update_fields=["used_at"])
        membership = invitation.membership
        user = membership.user
        user.set_password(password)
        user.is_active = True
        user.save()
        membership.status = Status.ACTIVE
        membership.save(update_fields=["status", "updated_at"])
        audit.record(
            membership.customer,
            audit.INVITATION_ACCEPTED,
            target=user.email,
            actor=Actor(customer_id=membership.customer_id, membership=membership),
        )
    return user
