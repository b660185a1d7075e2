from django.apps import AppConfig
from django.db.models.signals import post_migrate

from billing.db_guards import install_ledger_guards


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and accounts"

    def ready(self):
        from billing import (
            authentication,  # noqa: F401  (its OpenAPI security scheme)
            errors,  # noqa: F401  (declares the app's error codes)
        )

        # After every migrate: the database itself refuses changes to ledger rows.
        post_migrate.connect(
            install_ledger_guards, sender=self, dispatch_uid="billing_ledger_guards"
        )
