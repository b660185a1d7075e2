"""Create the demo account `make run` prints: customer, balance, API key, dashboard and admin users,
and the demo data that gives its dashboard something to show: four contacts (their names in
metadata, each marked `"demo": true`), the three approved templates, and three sandbox
messages to them (never charged) that the worker delivers, each with its status history.

Idempotent: run it any number of times; the demo data is made only for an account that has
never had a contact or a message, so deleting it is for good. The demo API key's secret is kept in
var/demo.json (a development convenience; only its hash is in the database), so the
same key is printed on every run while it is still valid.
"""

import json
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from billing.models import Customer, Membership
from billing.services import (
    api_key_authenticate,
    api_key_create,
    customer_create,
    membership_create,
    prices_seed_defaults,
)
from contacts.models import Contact, Source
from contacts.services import contact_create
from messaging.models import Message
from messaging.sending import SendRequest
from messaging.services import message_send
from templates_app.services import templates_seed_demo

DEMO_CUSTOMER = "Demo Company"
DEMO_BALANCE = Decimal("100.00")
DASHBOARD_LOGIN = ("demo", "demo-password")
ADMIN_LOGIN = ("admin", "admin-password")
# The demo contacts: the simulator delivers numbers ending 00–49 on WhatsApp (then read),
# 50–79 by SMS (docs/api/messages.md#the-simulator-the-default-provider-for-sms-and-whatsapp).
DEMO_CONTACTS = [
    ("+14155550101", "Ana Lima"),
    ("+14155550102", "Ben Okafor"),
    ("+14155550160", "Chloé Martin"),
    ("+14155550161", "Dev Patel"),
]
# (number, template, parameters): sent in sandbox mode, so the balance stays as it is.
DEMO_MESSAGES = [
    (
        "+14155550101",
        "order_shipped",
        {"name": "Ana", "order_id": "A-1001", "delivery_date": "Friday"},
    ),
    ("+14155550102", "summer_sale", {"name": "Ben", "discount": "20%"}),
    ("+14155550160", "verification_code", {"code": "482913"}),
]


def demo_data_seed(customer: Customer) -> bool:
    """The demo contacts and messages, once: only for an account that never had a contact or
    a message (a deleted demo contact stays deleted). The messages are queued; the worker
    `make run` starts delivers them. True when it made them."""
    if (
        Contact.all_objects.filter(customer=customer).exists()
        or Message.objects.filter(customer=customer).exists()
    ):
        return False
    for phone, name in DEMO_CONTACTS:
        contact_create(
            customer, phone_number=phone, name=name, metadata={"demo": True}, source=Source.ADMIN
        )
    for phone, template, parameters in DEMO_MESSAGES:
        message_send(
            customer,
            request=SendRequest(
                to=[phone], template_name=template, parameters=parameters, sandbox=True
            ),
        )
    return True


def demo_password_hashes_in_background() -> dict[str, Future]:
    """The demo logins' password hashes by username, computed in two threads (PBKDF2, ~0.4 s of
    CPU each; hashlib releases the GIL), so `serve` overlaps them with `migrate` on a first
    run instead of making the demo account wait for them."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-password")
    hashes = {
        username: pool.submit(make_password, raw)
        for username, raw in (DASHBOARD_LOGIN, ADMIN_LOGIN)
    }
    pool.shutdown(wait=False)
    return hashes


def bootstrap_demo(password_hashes: dict[str, Future] | None = None) -> dict:
    """The demo account (see the module's docstring); `password_hashes` from
    `demo_password_hashes_in_background()` when they were started earlier."""

    # Waited for here, not inside the transaction below (SQLite: it holds the write lock).
    ready = {name: made.result() for name, made in (password_hashes or {}).items()}

    def password_hash(username: str, raw: str) -> str:
        return ready[username] if username in ready else make_password(raw)

    state_file = settings.VAR_DIR / "demo.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    User = get_user_model()
    with transaction.atomic():
        customer = Customer.objects.filter(name=DEMO_CUSTOMER).order_by("created_at").first()
        if customer is None:
            customer = customer_create(
                name=DEMO_CUSTOMER, email="demo@example.com", balance=DEMO_BALANCE
            )
        if not User.objects.filter(username=DASHBOARD_LOGIN[0]).exists():
            membership_create(
                customer,
                username=DASHBOARD_LOGIN[0],
                password_hash=password_hash(*DASHBOARD_LOGIN),
                email="demo@example.com",
                role=Membership.Role.ADMIN,
            )
        if not User.objects.filter(username=ADMIN_LOGIN[0]).exists():
            User.objects.create(
                username=ADMIN_LOGIN[0],
                email="admin@example.com",
                password=password_hash(*ADMIN_LOGIN),
                is_staff=True,
                is_superuser=True,
            )
        raw_key = state.get("api_key")
        existing = api_key_authenticate(raw=raw_key) if raw_key else None
        if existing is None or existing.customer_id != customer.pk:
            raw_key = api_key_create(customer, name="Demo key").raw_key
        prices_seed_defaults()
        templates_seed_demo(customer)
        demo_data_seed(customer)
    customer.refresh_from_db()
    state = {"customer_id": str(customer.pk), "api_key": raw_key}
    state_file.write_text(json.dumps(state, indent=2))
    state_file.chmod(0o600)
    return {
        **state,
        "balance": str(customer.balance),
        "currency": customer.currency,
        "dashboard_login": list(DASHBOARD_LOGIN),
        "admin_login": list(ADMIN_LOGIN),
    }


class Command(BaseCommand):
    help = "Create (once) the demo customer, API key, dashboard user and admin user; print them."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        demo = bootstrap_demo()
        if options["json"]:
            self.stdout.write(json.dumps(demo))
            return
        self.stdout.write(f"Customer:  {DEMO_CUSTOMER} ({demo['customer_id']})")
        self.stdout.write(f"Balance:   {demo['balance']} {demo['currency']}")
        self.stdout.write(f"API key:   {demo['api_key']}")
        self.stdout.write(f"Dashboard: {demo['dashboard_login'][0]} / {demo['dashboard_login'][1]}")
        self.stdout.write(f"Admin:     {demo['admin_login'][0]} / {demo['admin_login'][1]}")
