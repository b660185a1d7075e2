# The event outbox moves from the messaging app to the plumbing (docs/architecture.md): the
# model's state moves here, its table (`messaging_event`) and rows stay where they are. Its
# content type moves too, so the permissions and admin history attached to it follow the model.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import sent_project.ids


def move_content_type(apps, schema_editor, *, source="messaging", target="sent_project"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=target, model="event").exists():
        content_types.filter(app_label=source, model="event").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="sent_project", target="messaging")


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.SENT_CUSTOMER_MODEL),
        ("sent_project", "0001_initial"),
        ("messaging", "0004_messages"),  # the table was created there
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.UUIDField(default=sent_project.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                        ("field", models.CharField(max_length=32)),
                        ("event", models.CharField(max_length=64)),
                        ("subject_id", models.UUIDField(blank=True, null=True)),
                        ("sequence", models.PositiveIntegerField(default=1)),
                        ("payload", models.JSONField()),
                        ("request_id", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("fanned_out_at", models.DateTimeField(blank=True, null=True)),
                        ("customer", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.SENT_CUSTOMER_MODEL)),
                    ],
                    options={
                        "db_table": "messaging_event",
                        "ordering": ["created_at"],
                        "indexes": [
                            models.Index(fields=["subject_id", "sequence"], name="event_subject_seq"),
                            models.Index(fields=["customer", "-created_at"], name="event_customer_created"),
                            models.Index(condition=models.Q(("fanned_out_at__isnull", True)), fields=["created_at"], name="event_fan_out_pending"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
