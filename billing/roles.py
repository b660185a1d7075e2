"""What each role may do (docs/dashboard.md#roles), and who is acting.

The dashboard is divided into areas; a role may use an area fully, read it only, or not at
all. Every dashboard page and action is checked against this table before its view runs
(`billing.dashboard.access.customer_required`, which finds a page's area from the
`DASHBOARD_AREAS` setting), the navigation shows only the areas a role may use, and every
service that changes something checks it again (`require`), so the API, the dashboard and
any other caller agree.

`require(actor, area)` is the one check: services that take an `actor` pass it; the others
pass `acting()`, the actor of the request being served (set by `billing.dashboard.access`
for a dashboard user and by `billing.authentication` for an API key). A refusal is
`RoleForbidden`, Django's PermissionDenied: the API answers it 403 `AUTH_004` in the
envelope, the dashboard with its 403 page (a view's `except SentError` does not swallow it).

An API key is not a user: it acts for its account with every permission (an organization
key may manage users). No actor at all (a command, a task, a provider callback) is the
system, which may.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied

from billing.models import ApiKey, Membership
from sent_project.request_context import current_actor, set_current_actor

FULL, READ = "full", "read"
Role = Membership.Role

# area → {role: FULL or READ}; admins may use every area, listed or not.
AREAS: dict[str, dict[str, str]] = {
    "home": {Role.DEVELOPER: FULL, Role.BILLING: FULL},
    "api_keys": {Role.DEVELOPER: FULL},
    "webhooks": {Role.DEVELOPER: FULL},
    "templates": {Role.DEVELOPER: FULL},
    "contacts": {Role.DEVELOPER: FULL},
    "playground": {Role.DEVELOPER: FULL},
    "senders": {Role.DEVELOPER: FULL},
    "messages": {Role.DEVELOPER: FULL, Role.BILLING: READ},
    "billing": {Role.BILLING: FULL},
    # The account's prices: a developer sees them in the playground's preview already.
    "prices": {Role.DEVELOPER: READ, Role.BILLING: FULL},
    "users": {},
    "audit": {},
    "security": {Role.DEVELOPER: FULL, Role.BILLING: FULL},  # one's own two-factor sign-in
}


def may(role: str | None, area: str, *, write: bool = False) -> bool:
    """May `role` use `area` (change things in it with `write`)? `None` is an API key."""
    if role is None or role == Role.ADMIN:
        return True
    access = AREAS.get(area, {}).get(role)  # an unknown area is for admins only
    return access == FULL or (access == READ and not write)


def area_of(view_name: str) -> str:
    """The area of a dashboard URL name ("namespace:name"): the `DASHBOARD_AREAS` entry with the
    longest matching prefix; "admin_only" when none matches (fail closed)."""
    best = ""
    area = "admin_only"
    for prefix, name in settings.DASHBOARD_AREAS.items():
        if view_name.startswith(prefix) and len(prefix) > len(best):
            best, area = prefix, name
    return area


@dataclass(frozen=True)
class Actor:
    """Who does something: a dashboard user (with their membership) or an API key."""

    customer_id: object
    membership: Membership | None = None
    api_key: ApiKey | None = None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def user(self):
        return self.membership.user if self.membership else None

    @property
    def label(self) -> str:
        if self.membership is not None:
            return self.membership.user.email or self.membership.user.get_username()
        if self.api_key is not None:
            return f"API key {self.api_key.name} ({self.api_key.prefix}…)"
        return "system"


def act_as_user(membership: Membership) -> Actor:
    actor = Actor(customer_id=membership.customer_id, membership=membership)
    set_current_actor(actor)
    return actor


def act_as_key(api_key: ApiKey) -> Actor:
    actor = Actor(customer_id=api_key.customer_id, api_key=api_key)
    set_current_actor(actor)
    return actor


def acting() -> Actor | None:
    """The actor of the request being served, if any."""
    actor = current_actor()
    return actor if isinstance(actor, Actor) else None


class RoleForbidden(PermissionDenied):
    """The actor's role may not do this (API: 403 `AUTH_004`; dashboard: the 403 page)."""

    def __init__(self, role: str, area: str):
        self.role, self.area = role, area
        super().__init__(f"The {role} role may not change {area.replace('_', ' ')}")


def require(actor: Actor | None, area: str, *, write: bool = True) -> None:
    """Raise RoleForbidden unless `actor` may use `area` (change things in it with `write`).
    No actor (a command, a task) is the system, which may; an API key may do anything."""
    if actor is not None and not may(actor.role, area, write=write):
        raise RoleForbidden(actor.role, area)


def user_may_open(user, view_name: str) -> bool:
    """May this signed-in user open the page named `view_name`? (The navigation's filter.)"""
    membership = getattr(user, "membership", None)
    if membership is None:
        return False
    return may(membership.role, area_of(view_name))
