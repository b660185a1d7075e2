from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save

from billing.db_guards import install_ledger_guards


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and accounts"

    def ready(self):
        from billing import (
            authentication,  # noqa: F401  (its OpenAPI security scheme)
            caching,
            errors,  # noqa: F401  (declares the app's error codes)
        )
        from billing.models import Price, PriceOverride

        # The send path's caches: every change bumps its counter (billing.caching).
        for signal in (post_save, post_delete):
            signal.connect(caching.customer_changed, sender=PriceOverride, dispatch_uid="cache")
            signal.connect(caching.price_table_changed, sender=Price, dispatch_uid="cache")

        # After every migrate: the database itself refuses changes to ledger rows.
        post_migrate.connect(
            install_ledger_guards, sender=self, dispatch_uid="billing_ledger_guards"
        )
