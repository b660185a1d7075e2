"""Both real adapters at once, configured by settings alone (docs/providers/README.md): a
WhatsApp template reaches READ through the Cloud API, and a number that isn't on WhatsApp falls
back to SMS through Twilio — each provider's fake receiving exactly one request per message."""

from tests.messaging.factories import number
from tests.messaging.providers.whatsapp_helpers import order_update, send, statuses


def test_whatsapp_reads_and_the_fallback_goes_out_through_twilio(
    sdk, live_account, cloud_api, twilio
):
    order_update(live_account, cloud_api)

    on_whatsapp = send(sdk, number(12))
    wamid = on_whatsapp.provider_message_id
    cloud_api.status(wamid, "delivered")
    cloud_api.status(wamid, "read")
    read = sdk.messages.retrieve_status(str(on_whatsapp.pk)).data
    assert (read.status, read.channel) == ("READ", "whatsapp")

    not_on_whatsapp = number(12, series=1)
    cloud_api.not_on_whatsapp.add(not_on_whatsapp)
    fallback = send(sdk, not_on_whatsapp)
    assert (fallback.channel, fallback.provider) == ("sms", "twilio")
    [create] = twilio.creates(not_on_whatsapp)
    assert create.form["Body"] == [fallback.body]
    twilio.deliver(twilio.sid_for(str(fallback.pk)))
    delivered = sdk.messages.retrieve_status(str(fallback.pk)).data
    assert (delivered.status, delivered.channel) == ("DELIVERED", "sms")
    fallback.refresh_from_db()
    assert statuses(fallback)[-1] == "DELIVERED"
    assert len(cloud_api.accepted(number(12))) == 1 and cloud_api.accepted(not_on_whatsapp) == []
