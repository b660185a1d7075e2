# The event outbox now lives in sent_project (its 0002 takes over the model's state; the table
# `messaging_event` and its rows are untouched). New ids of messages and webhook deliveries are
# time-ordered (uuid7): a default of Python's, so no SQL runs (on any database).

import django.db.models.deletion
from django.db import migrations, models

import sent_project.ids


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0004_messages"),
        ("sent_project", "0002_event_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="sent_project.event"),
                ),
                migrations.DeleteModel(name="Event"),
            ],
            database_operations=[],
        ),
        # State-only as well: a Python default has no column-level trace, yet SQLite's schema
        # editor would copy both tables into new ones for a changed default.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="id",
                    field=models.UUIDField(default=sent_project.ids.uuid7, editable=False, primary_key=True, serialize=False),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="id",
                    field=models.UUIDField(default=sent_project.ids.uuid7, editable=False, primary_key=True, serialize=False),
                ),
            ],
            database_operations=[],
        ),
    ]
