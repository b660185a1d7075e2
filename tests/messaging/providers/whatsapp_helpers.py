"""A WhatsApp template as our API holds it and as Meta holds it on the fake WABA, and sends
through the official SDK (docs/providers/whatsapp.md#templates)."""

from messaging.models import Message
from tests.messaging.factories import make_approved_template
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import variable

PARAMETERS = {"name": "Ana", "order_id": "A-1001"}
DEFINITION = {
    "header": {
        "type": "text",
        "template": "Order {{1:order_id}} update",
        "variables": [variable(1, "order_id", "A-1001")],
    },
    "body": {
        "multiChannel": {
            "type": "text",
            "template": "Hi {{1:name}}, your order {{2:order_id}} has shipped and will arrive "
            "soon. Thank you!",
            "variables": [variable(1, "name", "Ana"), variable(2, "order_id", "A-1001")],
        }
    },
    "footer": {"type": "text", "template": "Acme Shop"},
    "buttons": [
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Track order",
                "urlType": "dynamic",
                "url": "https://shop.example.com/track/{{1:order_id}}",
                "variables": [variable(1, "order_id", "A-1001")],
            },
        },
        {"id": 2, "type": "QUICK_REPLY", "props": {"text": "Stop updates"}},
    ],
}
# The same template as Meta keeps it (written out by hand, not by our translation).
META_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} update"},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped and will arrive soon. Thank you!",
    },
    {"type": "FOOTER", "text": "Acme Shop"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Track order", "url": "https://shop.example.com/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop updates"},
        ],
    },
]
# What a send of it with PARAMETERS carries.
SEND_COMPONENTS = [
    {"type": "header", "parameters": [{"type": "text", "text": "A-1001"}]},
    {
        "type": "body",
        "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1001"}],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": 0,
        "parameters": [{"type": "text", "text": "A-1001"}],
    },
    {
        "type": "button",
        "sub_type": "quick_reply",
        "index": 1,
        "parameters": [{"type": "payload", "payload": "Stop updates"}],
    },
]


def order_update(customer, graph):
    """The APPROVED template `order_update`, for `customer` and on the fake's WABA."""
    graph.add_template("order_update", components=META_COMPONENTS)
    return make_approved_template(customer, name="order_update", definition_=DEFINITION)


def send(sdk, to: str, **options) -> Message:
    """Send `order_update` to `to` through the SDK and run the workers; the message."""
    response = sdk.messages.send(
        to=[to], template={"name": "order_update", "parameters": PARAMETERS}, **options
    )
    assert response.data.status == "QUEUED"
    run_queued_tasks(include_future=True)
    return Message.objects.get(pk=response.data.recipients[0].message_id)


def statuses(message) -> list[str]:
    return [
        step.status
        for step in message.activities.filter(kind__in=("status", "receipt")).order_by("id")
    ]
