"""Provider calls share one httpx.Client per configuration (provider, URL, credentials,
timeout) across look-ups and threads; a client is closed once nobody holds it and its
configuration was replaced, too many sit idle, or the process exits."""

from __future__ import annotations

import gc
import threading

import httpx
import pytest

from app.providers import http
from app.providers.http import ClientPool, HttpOptions, ProviderHTTP
from app.providers.tmdb import TmdbClient
from tests.factories import household
from tests.fakes import tmdb as fake_tmdb_data

KEY = fake_tmdb_data.API_KEY


@pytest.fixture
def pool() -> ClientPool:
    """The process's own pool, emptied before and after the test (it stays usable)."""
    http.SHARED_CLIENTS.close_all()
    yield http.SHARED_CLIENTS
    http.SHARED_CLIENTS.close_all()


def _entry(pool: ClientPool, url: str) -> http.SharedClient:
    (found,) = [s for key, s in pool._clients.items() if key[1] == url.rstrip("/")]
    return found


def test_clients_of_one_configuration_share_one_http_client(pool, fake_tmdb):
    first, second = TmdbClient(KEY, fake_tmdb.base_url), TmdbClient(KEY, fake_tmdb.base_url)
    other_key = TmdbClient(fake_tmdb_data.BEARER_TOKEN, fake_tmdb.base_url)
    other_url = TmdbClient(KEY, "http://127.0.0.1:9/3")
    slower = TmdbClient(KEY, fake_tmdb.base_url, options=HttpOptions(timeout=1))

    assert first.http._client is second.http._client
    for different in (other_key, other_url, slower):
        assert different.http._client is not first.http._client
    assert first.search("Heat") == second.search("Heat")
    shared = first.http._client
    for client in (first, second, other_key, other_url, slower):
        client.close()
    assert not shared.is_closed  # pooled for the next look-up
    assert TmdbClient(KEY, fake_tmdb.base_url).http._client is shared


def test_a_client_dropped_without_closing_is_handed_back(pool, fake_tmdb):
    client = TmdbClient(KEY, fake_tmdb.base_url)
    entry = _entry(pool, fake_tmdb.base_url)
    assert entry.leases == 1
    client.close()
    client.close()  # a second close is harmless
    assert entry.leases == 0
    TmdbClient(KEY, fake_tmdb.base_url)  # never closed
    gc.collect()
    assert entry.leases == 0


def test_a_test_transport_or_a_given_client_is_not_pooled(pool):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    own = ProviderHTTP("Test", "http://example.test", options=HttpOptions(transport=transport))
    given = httpx.Client()
    borrowed = ProviderHTTP("Test", "http://example.test", options=HttpOptions(client=given))
    assert len(pool) == 0
    own.close()
    borrowed.close()
    assert own._client.is_closed and not given.is_closed
    given.close()


def test_a_configuration_replaced_by_its_owner_is_closed_once_nobody_holds_it():
    pool = ClientPool()
    old = pool.lease(("P", "http://a", 15.0, "k1"), 15.0, owner="space 1")
    pool.lease(("P", "http://a", 15.0, "k1"), 15.0, owner="space 2")  # held by a second owner
    pool.release(old)

    new = pool.lease(("P", "http://a", 15.0, "k2"), 15.0, owner="space 1")  # a new key
    assert not old.client.is_closed  # space 2 still has that configuration
    held = pool.lease(("P", "http://a", 15.0, "k1"), 15.0)  # a job without an owner
    pool.lease(("P", "http://b", 15.0, "k1"), 15.0, owner="space 2")  # a new URL
    assert not old.client.is_closed  # the job is still calling
    pool.release(held)
    pool.release(old)
    assert old.client.is_closed
    assert not new.client.is_closed
    # The same configuration again gets a fresh client.
    again = pool.lease(("P", "http://a", 15.0, "k1"), 15.0, owner="space 3")
    assert again.client is not old.client and not again.client.is_closed
    pool.close_all()
    assert new.client.is_closed and again.client.is_closed and len(pool) == 0


def test_idle_clients_beyond_the_limit_are_closed_least_recently_used_first():
    pool = ClientPool(max_idle=2)

    def use(url: str) -> http.SharedClient:
        shared = pool.lease(("P", url, 15.0, ""), 15.0)
        pool.release(shared)
        return shared

    a, b = use("http://a"), use("http://b")
    assert not a.client.is_closed and not b.client.is_closed
    c = use("http://c")
    assert a.client.is_closed  # the least recently used of three idle clients
    assert use("http://b") is b  # b is used again: c is now the oldest
    held = pool.lease(("P", "http://d", 15.0, ""), 15.0)
    assert not c.client.is_closed  # d is not idle while held
    pool.release(held)
    assert c.client.is_closed and not b.client.is_closed and not held.client.is_closed
    assert len(pool) == 2
    pool.close_all()


def test_threads_share_one_client(pool, fake_tmdb):
    results: list[tuple[int, str]] = []
    errors: list[Exception] = []

    def look_up() -> None:
        try:
            with TmdbClient(KEY, fake_tmdb.base_url) as tmdb:
                results.append((id(tmdb.http._client), tmdb.search("Heat")[0]["title"]))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len({client for client, _ in results}) == 1
    assert {title for _, title in results} == {"Heat"}
    entry = _entry(pool, fake_tmdb.base_url)
    assert entry.leases == 0 and not entry.client.is_closed


def test_a_space_s_look_ups_reuse_its_client_until_its_settings_change(app, pool, fake_tmdb):
    home = household(app)

    def configure(key: str) -> None:
        response = home.owner.put(
            "/api/admin/settings/integrations",
            json={"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": key},
        )
        assert response.status_code == 200, response.json

    def search() -> None:
        response = home.owner.post("/api/media/search-tmdb", json={"title": "heat"})
        assert response.status_code == 200, response.json

    configure(KEY)
    search()
    first = _entry(pool, fake_tmdb.base_url)
    search()
    assert _entry(pool, fake_tmdb.base_url) is first and first.leases == 0
    assert first.owners == {("space", home.space_id, "tmdb")}

    configure(fake_tmdb_data.BEARER_TOKEN)
    search()
    second = _entry(pool, fake_tmdb.base_url)
    assert second is not first and first.client.is_closed and not second.client.is_closed
