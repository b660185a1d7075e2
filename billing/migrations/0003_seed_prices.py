"""Seed the price table with the built-in rate card (idempotent; edits in the admin survive)."""

from django.db import migrations

from billing.rate_card import rate_card_rows


def seed(apps, schema_editor):
    Price = apps.get_model("billing", "Price")
    # The channels this table had then: MMS rows come with 0005, which allows them.
    rows = [row for row in rate_card_rows(Price) if row.channel in ("sms", "whatsapp")]
    Price.objects.using(schema_editor.connection.alias).bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0002_prices_and_ledger_constraints"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
