from sent_dm import AuthenticationError


def test_it_returns_the_account_with_its_balance(api_client, account):
    response = api_client.get("/v3/me")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["error"] is None
    assert body["data"]["id"] == str(account.pk)
    assert body["data"]["balance"] == "100.0000"
    assert body["data"]["currency"] == "USD"
    assert body["data"]["channels"]["sms"]["configured"] is True
    assert set(body["data"]["channels"]) == {"sms", "whatsapp", "rcs"}
    assert body["meta"]["version"] == "v3"
    assert body["meta"]["request_id"] == response["X-Request-Id"]


def test_sdk_retrieves_the_account(sdk, live_account):
    me = sdk.me.retrieve()
    assert me.success is True
    assert me.data.id == str(live_account.pk)
    assert me.data.name == "Acme"
    assert me.data.balance == "100.0000"
    assert me.data.channels.whatsapp.configured is True


def test_sdk_with_a_wrong_key_gets_401(sdk_factory, live_account):
    live_account.raw_api_key = "sent_not-a-real-key"
    client = sdk_factory(live_account)
    try:
        client.me.retrieve()
    except AuthenticationError as exc:
        assert exc.status_code == 401
        assert exc.body["success"] is False
        assert exc.body["error"]["code"] == "AUTH_002"
    else:
        raise AssertionError("expected a 401")
