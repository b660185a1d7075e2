def test_a_burst_past_the_rate_gets_429_with_retry_after(api_client, settings):
    settings.API_RATE_LIMIT = "3/min"
    for remaining in (2, 1, 0):
        response = api_client.get("/v3/me")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "3"
        assert response["X-RateLimit-Remaining"] == str(remaining)
    response = api_client.get("/v3/me")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "BUSINESS_002"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_limit_is_per_api_key(api_client, other_api_client, settings):
    settings.API_RATE_LIMIT = "2/min"
    assert api_client.get("/v3/me").status_code == 200
    assert api_client.get("/v3/me").status_code == 200
    assert api_client.get("/v3/me").status_code == 429
    assert other_api_client.get("/v3/me").status_code == 200
