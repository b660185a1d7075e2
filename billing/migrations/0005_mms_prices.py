"""MMS prices: the `mms` channel (priced per message, no category) and its rate-card rows."""

from django.db import migrations, models

from billing.rate_card import rate_card_rows


def seed_mms(apps, schema_editor):
    Price = apps.get_model("billing", "Price")
    rows = [row for row in rate_card_rows(Price) if row.channel == "mms"]
    Price.objects.using(schema_editor.connection.alias).bulk_create(rows, ignore_conflicts=True)


def unseed_mms(apps, schema_editor):
    """Back to a release without MMS: its prices go (the channel's constraint comes back)."""
    Price = apps.get_model("billing", "Price")
    Price.objects.using(schema_editor.connection.alias).filter(channel="mms").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_customer_routing_strategy"),
        # After the outbox's move, which an upgrade from the previous release applies first
        # (tests/sent_project/test_migrations.py); orders the graph only.
        ("messaging", "0005_event_moved_to_sent_project"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="price",
            name="price_category_fits_channel",
        ),
        migrations.RemoveConstraint(
            model_name="priceoverride",
            name="price_override_category_fits_channel",
        ),
        migrations.AlterField(
            model_name="price",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "— (SMS, MMS)"),
                    ("MARKETING", "Marketing"),
                    ("UTILITY", "Utility"),
                    ("AUTHENTICATION", "Authentication"),
                    ("SERVICE", "Service"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="price",
            name="channel",
            field=models.CharField(
                choices=[("sms", "SMS"), ("whatsapp", "WhatsApp"), ("mms", "MMS")], max_length=16
            ),
        ),
        migrations.AlterField(
            model_name="price",
            name="unit_price",
            field=models.DecimalField(
                decimal_places=4,
                help_text="USD per SMS segment / MMS / WhatsApp message",
                max_digits=12,
            ),
        ),
        migrations.AlterField(
            model_name="priceoverride",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "— (SMS, MMS)"),
                    ("MARKETING", "Marketing"),
                    ("UTILITY", "Utility"),
                    ("AUTHENTICATION", "Authentication"),
                    ("SERVICE", "Service"),
                ],
                help_text="Empty: every category",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="priceoverride",
            name="channel",
            field=models.CharField(
                choices=[("sms", "SMS"), ("whatsapp", "WhatsApp"), ("mms", "MMS")], max_length=16
            ),
        ),
        migrations.AddConstraint(
            model_name="price",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("category", ""), ("channel__in", ["sms", "mms"])),
                    models.Q(
                        ("category__in", ["MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE"]),
                        ("channel", "whatsapp"),
                    ),
                    _connector="OR",
                ),
                name="price_category_fits_channel",
                violation_error_message="SMS and MMS prices have no category; WhatsApp prices need one.",
            ),
        ),
        migrations.AddConstraint(
            model_name="priceoverride",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("category", ""), ("channel__in", ["sms", "mms"])),
                    models.Q(
                        ("category__in", ["MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE"]),
                        ("channel", "whatsapp"),
                    ),
                    models.Q(("category", ""), ("channel", "whatsapp")),
                    _connector="OR",
                ),
                name="price_override_category_fits_channel",
                violation_error_message="An SMS or MMS override has no category.",
            ),
        ),
        migrations.RunPython(seed_mms, unseed_mms),
    ]
