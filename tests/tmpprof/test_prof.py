import cProfile, pstats, io, time
from django.db import connection
from django.test.utils import CaptureQueriesContext
from twilio.request_validator import RequestValidator
from tests.messaging.provider_factories import make_twilio_account


def test_prof(client, db, settings):
    settings.SITE_URL = "http://testserver"
    acct = make_twilio_account("A", account_id="AC" + "b3" * 16, auth_token="tok123")
    url = (
        "http://testserver/providers/twilio/status?message_id=0190c9a4-1b2c-7d3e-8f40-123456789abc"
    )

    def form(n):
        return {
            "AccountSid": "AC" + "b3" * 16,
            "MessageSid": f"SM{n:032d}",
            "MessageStatus": "delivered",
            "To": "+14155550100",
            "From": "+15005550006",
            "ApiVersion": "2010-04-01",
        }

    v = RequestValidator("tok123")

    def post(n):
        f = form(n)
        return client.post(
            "/providers/twilio/status?message_id=0190c9a4-1b2c-7d3e-8f40-123456789abc",
            f,
            HTTP_X_TWILIO_SIGNATURE=v.compute_signature(url, f),
        )

    for n in range(50):
        assert post(n).status_code == 204
    with CaptureQueriesContext(connection) as q:
        post(99999)
    for x in q.captured_queries:
        print(x["sql"][:150])
    pr = cProfile.Profile()
    t = time.process_time()
    pr.enable()
    for n in range(100, 600):
        post(n)
    pr.disable()
    print("cpu per request ms", (time.process_time() - t) / 500 * 1000)
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(45)
    print(s.getvalue()[:9000])
