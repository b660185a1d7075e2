"""templates_seed_demo: the `make run` demo templates, APPROVED, idempotent, renderable."""

from sent_project.management.commands.bootstrap_demo import bootstrap_demo
from templates_app.models import Template
from templates_app.rendering import render_template, template_preview
from templates_app.selectors import template_for_send
from templates_app.services import templates_seed_demo


def test_the_demo_templates_are_approved_and_ready_to_send(account):
    created = templates_seed_demo(account)
    assert {(t.name, t.category, t.status) for t in created} == {
        ("verification_code", "AUTHENTICATION", "APPROVED"),
        ("order_shipped", "UTILITY", "APPROVED"),
        ("summer_sale", "MARKETING", "APPROVED"),
    }
    otp = template_for_send(account, name="verification_code")
    sms = render_template(otp, channel="sms", parameters={"code": "123456"})
    assert sms.body.startswith("Use 123456 to verify your Acme account.")
    assert (sms.encoding, sms.segments) == ("GSM-7", 1)
    for template in created:
        assert template.whatsapp_template_name
        _values, previews = template_preview(template)
        assert {p.channel for p in previews} == {"sms", "whatsapp"}
        assert all(p.encoding in (None, "GSM-7") for p in previews)


def test_seeding_twice_changes_nothing(account):
    templates_seed_demo(account)
    assert templates_seed_demo(account) == []
    assert Template.objects.filter(customer=account).count() == 3


def test_the_demo_bootstrap_seeds_them(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    demo = bootstrap_demo()
    bootstrap_demo()
    names = set(
        Template.objects.filter(customer_id=demo["customer_id"], status="APPROVED").values_list(
            "name", flat=True
        )
    )
    assert names == {"verification_code", "order_shipped", "summer_sale"}
