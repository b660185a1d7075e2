from decimal import Decimal

from messaging.routing import CHEAPEST_RELIABLE, ChannelHistory, RoutingFacts, route

BOTH = frozenset({"sms", "whatsapp"})


def facts(**overrides) -> RoutingFacts:
    base = {"region_code": "US", "reachable": BOTH, "content_channels": BOTH}
    return RoutingFacts(**(base | overrides))


def test_whatsapp_first_when_available_with_sms_as_fallback():
    decision = route(facts())
    assert (decision.channel, decision.fallbacks) == ("whatsapp", ("sms",))
    assert decision.reason.startswith("whatsapp: available")


def test_sms_when_the_contact_is_not_on_whatsapp():
    decision = route(facts(reachable=frozenset({"sms"})))
    assert (decision.channel, decision.fallbacks) == ("sms", ())
    assert "whatsapp unavailable" in decision.reason


def test_free_form_text_cannot_go_on_whatsapp():
    decision = route(facts(content_channels=frozenset({"sms"})))
    assert decision.channel == "sms"


def test_no_channel_when_nothing_can_reach_the_number():
    decision = route(facts(reachable=frozenset()))
    assert decision.channel is None
    assert "can't receive" in decision.reason


def test_the_customers_default_channel_wins_when_available():
    decision = route(facts(contact_default="sms"))
    assert (decision.channel, decision.fallbacks) == ("sms", ("whatsapp",))
    assert "default" in decision.reason


def test_a_channel_that_keeps_failing_is_demoted_with_its_numbers_in_the_reason():
    history = {
        "whatsapp": ChannelHistory(attempts=10, delivered=2),
        "sms": ChannelHistory(attempts=50, delivered=49),
    }
    decision = route(facts(history=history))
    assert (decision.channel, decision.fallbacks) == ("sms", ("whatsapp",))
    assert "sms: whatsapp unavailable" not in decision.reason
    assert "98% delivered in last 50" in decision.reason
    assert "whatsapp: demoted, 20% delivered in last 10" in decision.reason


def test_a_little_history_is_not_enough_to_demote():
    history = {"whatsapp": ChannelHistory(attempts=2, delivered=0)}
    assert route(facts(history=history)).channel == "whatsapp"


def test_the_regional_preference_orders_channels():
    decision = route(facts(region_code="US", regional_preference={"US": ["sms", "whatsapp"]}))
    assert (decision.channel, decision.fallbacks) == ("sms", ("whatsapp",))
    assert "preferred in US" in decision.reason


def test_cheapest_reliable_picks_the_lower_price_for_the_recipient():
    # An Indian utility template on WhatsApp is cheaper than an SMS there...
    india = route(
        facts(
            region_code="IN",
            strategy=CHEAPEST_RELIABLE,
            prices={"whatsapp": Decimal("0.0014"), "sms": Decimal("0.0830")},
        )
    )
    assert india.channel == "whatsapp"
    # ...a German marketing template costs more than an SMS.
    germany = route(
        facts(
            region_code="DE",
            strategy=CHEAPEST_RELIABLE,
            prices={"whatsapp": Decimal("0.1365"), "sms": Decimal("0.0850")},
        )
    )
    assert (germany.channel, germany.fallbacks) == ("sms", ("whatsapp",))
    assert "cheapest reliable" in germany.reason


def test_cheapest_reliable_skips_a_failing_cheaper_channel():
    decision = route(
        facts(
            strategy=CHEAPEST_RELIABLE,
            prices={"whatsapp": Decimal("0.001"), "sms": Decimal("0.05")},
            history={"whatsapp": ChannelHistory(attempts=20, delivered=1)},
        )
    )
    assert (decision.channel, decision.fallbacks) == ("sms", ("whatsapp",))
