"""Rate limits per endpoint class, answered with 429 rate_limited (memory and Redis storage)."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import TEST_REDIS_URL, port_open, require_service


def _limited_app(make_app, **overrides):
    limits = {
        "global": 1000,
        "auth": 3,
        "admin": 1000,
        "media_read": 1000,
        "media_write": 1000,
        "import_start": 1000,
        "sync_poll": 1000,
        "external_api": 1000,
    }
    limits.update(overrides.pop("limits", {}))
    return make_app(**{"RATELIMIT_ENABLED": True, "RATE_LIMITS": limits, **overrides})


def _login(client, n):
    return [
        client.post(
            "/api/auth/login",
            json={"email": "admin@example.test", "password": "wrong-password"},
        )
        for _ in range(n)
    ]


def test_auth_class_limits_api_login_with_a_json_429(make_app):
    app = _limited_app(make_app, RATELIMIT_STORAGE_URI="memory://")
    responses = _login(app.test_client(), 5)
    assert [r.status_code for r in responses] == [401, 401, 401, 429, 429]
    last = responses[-1]
    assert last.json["code"] == "rate_limited"
    assert isinstance(last.json["message"], str)
    assert "Retry-After" in last.headers


def test_global_class_is_shared_by_every_api_endpoint(make_app):
    app = _limited_app(make_app, RATELIMIT_STORAGE_URI="memory://", limits={"global": 3})
    client = app.test_client()
    codes = [client.get("/api/auth/csrf-token").status_code for _ in range(2)]
    codes.append(client.get("/api/v1/_openapi").status_code)  # 401, but counted
    codes.append(client.get("/api/auth/csrf-token").status_code)
    assert codes == [200, 200, 401, 429]


def test_health_is_never_rate_limited(make_app):
    app = _limited_app(make_app, RATELIMIT_STORAGE_URI="memory://", limits={"global": 1})
    client = app.test_client()
    assert {client.get("/api/health").status_code for _ in range(5)} == {200}


def test_limits_can_be_switched_off(make_app):
    app = _limited_app(make_app, RATELIMIT_ENABLED=False, RATELIMIT_STORAGE_URI="memory://")
    assert {r.status_code for r in _login(app.test_client(), 6)} == {401}


@pytest.mark.redis
def test_redis_storage_shares_the_budget_between_app_processes(make_app):
    require_service("Redis", port_open("127.0.0.1", 6379))
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    first = _limited_app(make_app, RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    second = _limited_app(make_app, RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
    codes = [r.status_code for r in _login(first.test_client(), 2)]
    codes += [r.status_code for r in _login(second.test_client(), 2)]
    assert codes == [401, 401, 401, 429]
    keys = redis.Redis.from_url(TEST_REDIS_URL).keys("LIMITS*")
    assert keys, "the limiter should keep its counters in Redis"
