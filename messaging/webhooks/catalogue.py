"""The events an endpoint can subscribe to: families, their events, and specimen payloads.

`field` is the family, `event` is `<family>.<suffix>`. Endpoints subscribe by family
(`event_types`) and may narrow a family to some suffixes (`event_filters`). Apps emitting a
new kind of event add it here so customers can find and filter on it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    display_name: str
    description: str
    events: dict[str, str]  # suffix → description


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in [
        Family(
            "message",
            "Messages",
            "An outbound message changed status, or an inbound message arrived.",
            {
                "queued": "Accepted and waiting to be processed.",
                "routed": "A provider and channel were chosen.",
                "scheduled": "Held until its release time (scheduled or quiet hours).",
                "sent": "Handed to the provider.",
                "delivered": "The provider confirmed delivery to the device.",
                "read": "The recipient read it (WhatsApp).",
                "failed": "Delivery failed; reason_code says why.",
                "blocked": "Stopped by an account precondition (e.g. balance); resendable.",
                "filtered": "Stopped by a policy filter (e.g. opted out); never resendable.",
                "cancelled": "A scheduled send was called off.",
                "received": "A contact sent a message to one of your numbers.",
            },
        ),
        Family(
            "templates",
            "Templates",
            "A template's review status changed.",
            {
                "submitted": "Submitted for review.",
                "pending": "Waiting for the channel's review.",
                "approved": "Approved: it can be sent.",
                "rejected": "Rejected; reason says why.",
                "paused": "Paused by the channel (quality).",
                "disabled": "Disabled by the channel.",
                "revoked": "Approval revoked.",
            },
        ),
        Family(
            "contact",
            "Contacts",
            "A contact was created or changed, or sent a consent keyword.",
            {
                "created": "A contact was created.",
                "updated": "A contact's details changed.",
                "deleted": "A contact was deleted.",
                "opt_in": "The contact opted in.",
                "opt_out": "The contact opted out.",
                "help": "The contact asked for help.",
                "custom_keyword": "The contact sent a configured keyword.",
            },
        ),
        Family(
            "balance",
            "Balance",
            "Account balance notices.",
            {"low": "The balance fell below the account's low-balance threshold."},
        ),
    ]
}


def event_names() -> list[str]:
    """Every family and every `<family>.<suffix>` event name."""
    return [*FAMILIES, *(f"{f.name}.{suffix}" for f in FAMILIES.values() for suffix in f.events)]


def event_filters_schema() -> dict:
    """OpenAPI for `event_filters`: per family, its suffixes (or full event names)."""
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            family.name: {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": [
                        *family.events,
                        *(f"{family.name}.{suffix}" for suffix in family.events),
                    ],
                },
            }
            for family in FAMILIES.values()
        },
        "description": 'Narrow a family to some events: {"message": ["delivered", "failed"]}.',
    }


def event_suffix(field: str, event: str) -> str:
    """`message.delivered` → `delivered` (an event outside its family's prefix stays whole)."""
    prefix = f"{field}."
    return event[len(prefix) :] if event.startswith(prefix) else event


def endpoint_wants(
    event_types: list[str], event_filters: dict | None, *, field: str, event: str
) -> bool:
    """Does a subscription (families + optional per-family suffix filters) include this event?"""
    if field not in event_types:
        return False
    wanted = (event_filters or {}).get(field)
    if not wanted:
        return True
    return event_suffix(field, event) in wanted


def normalise_filters(event_filters: dict | None) -> tuple[dict | None, dict[str, list[str]]]:
    """Validate `{family: [suffix or full event name]}` → (filters as suffixes, errors)."""
    if not event_filters:
        return None, {}
    errors: dict[str, list[str]] = {}
    clean: dict[str, list[str]] = {}
    for family_name, names in event_filters.items():
        family = FAMILIES.get(family_name)
        if family is None:
            errors[f"event_filters.{family_name}"] = [f"Unknown event family {family_name!r}."]
            continue
        suffixes = []
        for name in names:
            suffix = event_suffix(family_name, name)
            if suffix not in family.events:
                errors.setdefault(f"event_filters.{family_name}", []).append(
                    f"Unknown event {name!r}; one of: {', '.join(family.events)}."
                )
            elif suffix not in suffixes:
                suffixes.append(suffix)
        if suffixes:
            clean[family_name] = suffixes
    return clean or None, errors


def event_types_listing() -> list[dict]:
    """GET /v3/webhooks/event-types: families with their events nested as `sub_types`."""
    return [
        {
            "name": family.name,
            "display_name": family.display_name,
            "description": family.description,
            "event_type": family.name,
            "is_active": True,
            "sub_types": [
                {
                    "name": f"{family.name}.{suffix}",
                    "display_name": suffix.replace("_", " ").capitalize(),
                    "description": description,
                    "event_type": family.name,
                    "is_active": True,
                    "sub_types": [],
                }
                for suffix, description in family.events.items()
            ],
        }
        for family in FAMILIES.values()
    ]


def specimen_payload(field: str, event: str, *, account_id: str, now: str) -> dict:
    """A realistic payload for `POST /v3/webhooks/{id}/test`; ids are zero UUIDs and
    `test` is true, so a receiver can tell it apart from a real event."""
    zero = "00000000-0000-0000-0000-000000000000"
    base = {"account_id": account_id, "test": True}
    if field == "message":
        status = event_suffix(field, event).upper()
        return {
            **base,
            "message_id": zero,
            "message_status": status,
            "channel": "sms",
            "outbound_number": "+14155550100",
            "body": "This is a test event from Sent.",
            "template_id": zero,
            "template_name": "test_template",
            "updated_at": now,
        }
    if field == "templates":
        return {
            **base,
            "template_id": zero,
            "template_name": "test_template",
            "status": event_suffix(field, event).upper(),
            "whatsapp_template_id": "0",
            "category": "UTILITY",
            "language": "en_US",
        }
    if field == "contact":
        return {
            **base,
            "contact_id": zero,
            "opt_out": event == "contact.opt_out",
            "source": "INBOUND_KEYWORD",
            "from": "+14155550100",
            "to": None,
            "channel": "sms",
            "message_id": None,
            "text": None,
            "template_id": None,
        }
    return {**base, "balance": "4.2000", "threshold": "5.0000", "currency": "USD"}


DEFAULT_TEST_EVENT = {
    "message": "message.delivered",
    "templates": "templates.approved",
    "contact": "contact.created",
    "balance": "balance.low",
}


def resolve_test_event(event_type: str | None, subscribed: list[str]) -> tuple[str, str] | None:
    """`message`, `message.delivered` or nothing (→ the endpoint's first family) → (field, event);
    None when it names no known event."""
    name = (event_type or "").strip() or (subscribed[0] if subscribed else "message")
    family_name, _, suffix = name.partition(".")
    family = FAMILIES.get(family_name)
    if family is None:
        return None
    if not suffix:
        return family_name, DEFAULT_TEST_EVENT[family_name]
    if suffix not in family.events:
        return None
    return family_name, f"{family_name}.{suffix}"
