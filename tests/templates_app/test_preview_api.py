"""POST /v3/templates/{id}/preview: each channel rendered with parameters or samples."""

from tests.templates_app.factories import content, make_template, sms_only_definition


def preview(api_client, template, body=None):
    return api_client.post(f"/v3/templates/{template.pk}/preview", body or {}, format="json")


def test_the_preview_renders_sms_and_whatsapp_with_samples_and_given_values(api_client, account):
    raw = {
        "body": {
            "multiChannel": content(
                "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon.",
                samples={"name": "Ana", "order_id": "A-1"},
            )
        }
    }
    template = make_template(account, definition_=raw)  # any status previews
    response = preview(api_client, template, {"parameters": {"order_id": "Z-9 😀"}})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["template_id"] == str(template.pk)
    assert data["parameters"] == {"name": "Ana", "order_id": "Z-9 😀"}
    sms, whatsapp = data["previews"]
    assert sms == {
        "channel": "sms",
        "body": "Hi Ana, your order Z-9 😀 has shipped and arrives soon.",
        "header": None,
        "footer": None,
        "buttons": [],
        "header_media": None,
        "encoding": "UCS-2",
        "segments": 1,
        "characters": 55,
    }
    assert (whatsapp["channel"], whatsapp["encoding"], whatsapp["segments"]) == (
        "whatsapp",
        None,
        1,
    )


def test_the_preview_can_ask_for_channels_and_skips_those_without_content(api_client, account):
    template = make_template(account, definition_=sms_only_definition())
    data = preview(api_client, template, {"channels": ["whatsapp", "sms"]}).json()["data"]
    assert [p["channel"] for p in data["previews"]] == ["sms"]
    assert data["previews"][0]["body"] == "Your parcel [tracking] is out for delivery"


def test_bad_preview_input_is_400(api_client, account):
    template = make_template(account)
    response = preview(api_client, template, {"channels": ["fax"], "parameters": {"a": ["x"]}})
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"channels.0", "parameters.a"}
