"""Create the demo account `make run` prints: customer, balance, API key, dashboard and admin users.

Idempotent: run it any number of times. The demo API key's secret is kept in
var/demo.json (a development convenience; only its hash is in the database), so the
same key is printed on every run while it is still valid.
"""

import json
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
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
from templates_app.services import templates_seed_demo

DEMO_CUSTOMER = "Demo Company"
DEMO_BALANCE = Decimal("100.00")
DASHBOARD_LOGIN = ("demo", "demo-password")
ADMIN_LOGIN = ("admin", "admin-password")


def bootstrap_demo() -> dict:
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
                password=DASHBOARD_LOGIN[1],
                email="demo@example.com",
                role=Membership.Role.ADMIN,
            )
        if not User.objects.filter(username=ADMIN_LOGIN[0]).exists():
            User.objects.create_superuser(
                username=ADMIN_LOGIN[0], email="admin@example.com", password=ADMIN_LOGIN[1]
            )
        raw_key = state.get("api_key")
        existing = api_key_authenticate(raw=raw_key) if raw_key else None
        if existing is None or existing.customer_id != customer.pk:
            raw_key = api_key_create(customer, name="Demo key").raw_key
        prices_seed_defaults()
        templates_seed_demo(customer)
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
