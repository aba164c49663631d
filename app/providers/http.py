"""The HTTP layer every provider client shares: one pooled httpx.Client per configuration,
timeouts, retries with backoff, a throttle that all workers of a job can share, a per-job
response cache, and one error type with a message a person can act on.

Secrets never reach a log line: calls are logged with the URL stripped of its query string and
credentials, headers are never logged, and httpx's own request log gets the same redaction.
"""

from __future__ import annotations

import atexit
import email.utils
import hashlib
import json
import logging
import math
import os
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from app.errors import UpstreamError

log = logging.getLogger("boxset.providers")

DEFAULT_TIMEOUT = 15.0
SLOW_TIMEOUT = 30.0  # OCR uploads and Plex pages (api.md)
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


# --------------------------------------------------------------------------- errors


class ProviderError(UpstreamError):
    """A provider call failed. The API answers it as 502 `upstream_error` (ProviderNotFound:
    404 `not_found`) with `message`, a sentence naming the provider and the reason.

    `status` is Boxset's own HTTP answer (AppError); `upstream_status` is what the provider
    answered, or None when it never answered (timeout, refused connection, not configured).
    `kind` is a stable word for code: auth, not_found, rate_limited, server, timeout,
    connection, invalid_response, refused, not_configured, failed.
    """

    kind = "failed"

    def __init__(
        self,
        provider: str,
        reason: str,
        upstream_status: int | None = None,
        *,
        kind: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.reason = reason
        self.upstream_status = upstream_status
        self.retry_after = retry_after
        if kind:
            self.kind = kind
        super().__init__(f"{provider} {reason}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ProviderNotFound(ProviderError):
    """The provider has no such thing (an unknown TMDB id). Answered as 404 `not_found`."""

    status, code, kind = 404, "not_found", "not_found"


class ProviderAuthError(ProviderError):
    """401/403: the key or token is wrong, expired or lacks access."""

    kind = "auth"


class ProviderRateLimited(ProviderError):
    """429 after the retries (or a Retry-After longer than we are willing to wait);
    `retry_after` says when the provider will accept calls again, if it said."""

    kind = "rate_limited"


class ProviderNotConfigured(ProviderError):
    """No URL or no key: nothing was sent. That is the space's settings, not a failure of the
    provider, so the API answers 400 and says where to fix it."""

    kind = "not_configured"
    status, code = 400, "validation_failed"

    def __init__(self, provider: str, reason: str, *args, **kwargs) -> None:
        super().__init__(provider, reason, *args, **kwargs)
        self.message = f"{provider} {reason}: add it under Integrations."


def error_for_status(provider: str, status: int, retry_after: float | None = None) -> ProviderError:
    """The error for a provider's non-success HTTP status."""
    if status in (401, 403):
        return ProviderAuthError(provider, f"rejected the credentials (HTTP {status})", status)
    if status == 404:
        return ProviderNotFound(provider, "has no such item (HTTP 404)", status)
    if status == 429:
        wait = f"; try again in {_seconds(retry_after)}" if retry_after else ""
        return ProviderRateLimited(
            provider, f"is rate limiting requests (HTTP 429){wait}", status, retry_after=retry_after
        )
    if status >= 500:
        return ProviderError(provider, f"answered {status}", status, kind="server")
    if 300 <= status < 400:
        return ProviderError(
            provider,
            f"redirected the request (HTTP {status}); set the final address in the settings",
            status,
            kind="refused",
        )
    return ProviderError(provider, f"refused the request (HTTP {status})", status, kind="refused")


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 120:
        return f"{round(value / 60)} minutes"
    return f"{value:g} s"


# --------------------------------------------------------------------------- log redaction


def redact_url(url: str | httpx.URL) -> str:
    """The URL for a log line: scheme, host, port and path only (no credentials, no query)."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _RedactUrls(logging.Filter):
    """httpx logs every request with its full URL (TMDB v3 keys travel in the query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) or _looks_like_url(a) else a
                for a in record.args
            )
        return True


def _looks_like_url(value: Any) -> bool:
    return isinstance(value, str) and "://" in value and ("?" in value or "@" in value)


def _install_httpx_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in logger.filters):
        logger.addFilter(_RedactUrls())


_install_httpx_redaction()


# --------------------------------------------------------------------------- throttle


class Throttle:
    """Spaces calls to one provider out, across all threads that share it (a token bucket in
    GCRA form: `rate` calls per second on average, up to `burst` back to back).

    `Throttle(min_interval=0.05)` is the same as `Throttle(rate=20)`. `defer(seconds)` makes
    every sharer wait, e.g. after a 429 with Retry-After.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: int = 1,
        min_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval is not None:
            rate = 1.0 / min_interval if min_interval > 0 else None
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate if rate else 0.0
        self.tolerance = self.interval * max(burst - 1, 0)
        self._tat = 0.0  # theoretical arrival time of the next call
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        """Wait for this caller's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            start = max(now, tat - self.tolerance)
            self._tat = max(tat, start) + self.interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def defer(self, seconds: float) -> None:
        """Nobody sharing this throttle calls before `seconds` from now."""
        with self._lock:
            self._tat = max(self._tat, self._clock() + seconds + self.tolerance)


# Defaults per provider for jobs (formats.md: TMDB ~40/s per key; UPCitemdb bursts of 6/s).
DEFAULT_RATES: dict[str, tuple[float, int]] = {
    "tmdb": (20.0, 5),
    "upcitemdb": (5.0, 1),
    "barcodelookup": (5.0, 1),
    "ocr": (2.0, 1),
    "plex": (20.0, 5),
}


def throttle_for(provider: str) -> Throttle:
    """A fresh throttle with the default pace of a provider key (see DEFAULT_RATES)."""
    rate, burst = DEFAULT_RATES.get(provider, (10.0, 1))
    return Throttle(rate, burst=burst)


# --------------------------------------------------------------------------- cache


class ResponseCache:
    """Parsed answers of one job, keyed by method + URL + parameters (credentials excluded),
    shared by its threads. Bounded (least recently used entries go first)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(method: str, url: str, params: Mapping[str, Any] | None) -> tuple:
        items = tuple(sorted((str(k), str(v)) for k, v in (params or {}).items()))
        return (method.upper(), url, items)

    def get(self, key: tuple) -> tuple[bool, Any]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return True, self._data[key]
            self.misses += 1
            return False, None

    def set(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_NOT_FOUND = object()  # cached marker: the provider answered 404 for this key


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429, 5xx and refused/dropped connections. Waits grow exponentially from
    `backoff` (capped at `max_backoff`) with jitter; a 429's Retry-After is honoured up to
    `max_retry_after` — a provider that asks for longer (a daily quota) fails at once with
    ProviderRateLimited carrying `retry_after`. Timeouts are not retried unless
    `retry_timeouts` (a user is waiting on most calls)."""

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    retry_timeouts: bool = False

    def delay(self, attempt: int) -> float:
        """Wait before attempt `attempt + 1` (attempt counts from 1): equal jitter."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


NO_RETRY = RetryPolicy(attempts=1)


@dataclass
class HttpOptions:
    """How a client calls its provider. A job builds one (with a shared throttle and cache)
    and hands it to the client its workers share; tests shrink the timeout and backoff.

    `timeout` None means the provider's default (15 s; OCR and Plex 30 s). `transport` is
    httpx's, for tests that want one; `client` reuses an existing httpx.Client. Otherwise
    the client is the process's shared one for this configuration (see ClientPool); `owner`
    names whose configuration it is (a space's look-ups: `("space", id, provider)`), so that
    when the owner comes back with another URL or key the old client is closed.
    """

    timeout: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    throttle: Throttle | None = None
    cache: ResponseCache | None = None
    max_response_bytes: int = MAX_RESPONSE_BYTES
    transport: httpx.BaseTransport | None = None
    client: httpx.Client | None = None
    owner: Hashable | None = None


# --------------------------------------------------------------------------- shared clients


def _new_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )


class SharedClient:
    """A pooled httpx.Client and who holds it."""

    __slots__ = ("client", "key", "leases", "owners", "retired")

    def __init__(self, key: tuple, client: httpx.Client) -> None:
        self.key = key
        self.client = client
        self.leases = 0
        self.owners: set[Hashable] = set()
        self.retired = False


class ClientPool:
    """One httpx.Client per provider configuration (provider, base URL, credentials, timeout)
    for the whole process, so that calls reuse its connections instead of opening new ones
    (and a TLS handshake) every time. httpx.Client is thread-safe.

    Callers `lease()` a client and `release()` it when done. A client is closed once nobody
    holds it and either its configuration was replaced (its owner, e.g. a space's TMDB
    settings, came back with another URL or key), more than `max_idle` configurations sit
    unused (the least recently used goes), or the process exits. The credentials are part of
    the configuration so that a cookie a provider sets for one account never travels with
    another account's calls.
    """

    def __init__(self, max_idle: int = 32) -> None:
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple, SharedClient] = OrderedDict()
        self._owners: dict[Hashable, tuple] = {}  # owner -> the key it used last

    def lease(self, key: tuple, timeout: float, owner: Hashable | None = None) -> SharedClient:
        closing: list[SharedClient] = []
        with self._lock:
            shared = self._clients.get(key)
            if shared is None:
                shared = self._clients[key] = SharedClient(key, _new_client(timeout))
            self._clients.move_to_end(key)
            shared.leases += 1
            if owner is not None:
                previous = self._owners.get(owner)
                self._owners[owner] = key
                shared.owners.add(owner)
                replaced = self._clients.get(previous) if previous != key else None
                if replaced is not None:
                    replaced.owners.discard(owner)
                    if not replaced.owners:
                        self._retire(replaced, closing)
            self._trim(closing)
        _close(closing)
        return shared

    def release(self, shared: SharedClient) -> None:
        closing: list[SharedClient] = []
        with self._lock:
            shared.leases -= 1
            if shared.leases <= 0:
                if shared.retired:
                    closing.append(shared)
                else:
                    self._trim(closing)
        _close(closing)

    def close_all(self) -> None:
        """Close every client (at exit: whoever still holds one is done too)."""
        with self._lock:
            everything = list(self._clients.values())
            self._clients.clear()
            self._owners.clear()
            for shared in everything:
                shared.retired = True
        _close(everything)

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)

    def _trim(self, closing: list[SharedClient]) -> None:
        idle = [s for s in self._clients.values() if s.leases <= 0]
        for stale in idle[: max(len(idle) - self.max_idle, 0)]:  # least recently leased first
            self._retire(stale, closing)

    def _retire(self, shared: SharedClient, closing: list[SharedClient]) -> None:
        """No new leases; closed now if nobody holds it, else on the last release."""
        shared.retired = True
        self._clients.pop(shared.key, None)
        for owner in shared.owners:
            if self._owners.get(owner) == shared.key:
                del self._owners[owner]
        if shared.leases <= 0:
            closing.append(shared)

    def _forget(self) -> None:
        """In a forked child: the parent's connections are not ours to use or to close."""
        self._lock = threading.Lock()
        self._clients = OrderedDict()
        self._owners = {}


def _close(shared: Iterable[SharedClient]) -> None:
    for one in shared:
        one.client.close()


SHARED_CLIENTS = ClientPool()
atexit.register(SHARED_CLIENTS.close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=SHARED_CLIENTS._forget)


def _credentials(headers: Mapping[str, str], params: Mapping[str, str]) -> str:
    """A digest of the credentials, for the pool's key (the key itself is not kept there)."""
    text = json.dumps([sorted(headers.items()), sorted(params.items())])
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- responses


@dataclass
class ProviderResponse:
    provider: str
    status: int
    headers: httpx.Headers
    content: bytes
    url: str  # already redacted

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            raise ProviderError(
                self.provider,
                "sent an answer that is not valid JSON",
                self.status,
                kind="invalid_response",
            ) from None

    def xml(self, *, forbid_dtd: bool = True) -> Any:
        """The root element, parsed with defusedxml: entity declarations (billion laughs,
        external entities) are refused, and so is any DTD unless `forbid_dtd=False`."""
        try:
            return SafeET.fromstring(self.content, forbid_dtd=forbid_dtd)
        except DefusedXmlException:
            raise ProviderError(
                self.provider,
                "sent XML with a DTD or entity declarations, which Boxset refuses to parse",
                self.status,
                kind="invalid_response",
            ) from None
        except SafeET.ParseError:
            raise ProviderError(
                self.provider,
                "sent an answer that is not valid XML",
                self.status,
                kind="invalid_response",
            ) from None

    def looks_like_xml(self) -> bool:
        if "xml" in self.content_type:
            return True
        if "json" in self.content_type:
            return False
        return self.content.lstrip()[:1] == b"<"


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: an integer, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" and "inf" parse as floats but are no delay anyone can wait
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


# --------------------------------------------------------------------------- the caller


class ProviderHTTP:
    """Calls one provider: `base_url` plus a path, with the credentials added to every
    request (`auth_headers` / `auth_params`, never logged, never part of a cache key).

    One instance may be shared by several threads (httpx.Client is thread-safe), and its
    httpx.Client is shared with every other instance of the same configuration (ClientPool):
    `close()` hands it back rather than closing it.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
        options: HttpOptions | None = None,
        headers: Mapping[str, str] | None = None,
        auth_headers: Mapping[str, str] | None = None,
        auth_params: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = (base_url or "").rstrip("/")
        self.options = options or HttpOptions()
        self.timeout = self.options.timeout or default_timeout
        self._headers = dict(headers or {})
        self._auth_headers = dict(auth_headers or {})
        self._auth_params = dict(auth_params or {})
        self._own_client = self.options.client is None and self.options.transport is not None
        self._release: Callable[[], Any] | None = None
        if self.options.client is not None:
            self._client = self.options.client
        elif self._own_client:  # a test's transport: a client of its own
            self._client = _new_client(self.timeout, self.options.transport)
        else:
            key = (
                provider,
                self.base_url,
                self.timeout,
                _credentials(self._auth_headers, self._auth_params),
            )
            shared = SHARED_CLIENTS.lease(key, self.timeout, self.options.owner)
            self._client = shared.client
            # Handed back by close(), or when this caller is dropped without closing.
            self._release = weakref.finalize(self, SHARED_CLIENTS.release, shared)

    def close(self) -> None:
        if self._own_client:
            self._client.close()
        elif self._release is not None:
            self._release()  # runs once, however often close() is called

    def __enter__(self) -> ProviderHTTP:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def url(self, path: str = "") -> str:
        if not path:
            return self.base_url
        return f"{self.base_url}/{path.lstrip('/')}"

    # The one place a request is sent ------------------------------------------------

    def request(
        self,
        method: str,
        path: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        ok_statuses: Iterable[int] = (),
    ) -> ProviderResponse:
        """Send with throttle, retries and the error rules; returns a 2xx answer (or one
        whose status is in `ok_statuses`), else raises ProviderError."""
        if not self.base_url:
            raise ProviderNotConfigured(self.provider, "has no URL configured")
        if not self.base_url.startswith(("http://", "https://")):
            raise ProviderNotConfigured(
                self.provider, "has an address that does not start with http:// or https://"
            )
        url = self.url(path)
        shown = redact_url(url)
        policy = self.options.retry
        attempts = max(policy.attempts, 1)
        allowed = set(ok_statuses)
        query = {**{k: v for k, v in (params or {}).items() if v is not None}, **self._auth_params}
        all_headers = {**self._headers, **(headers or {}), **self._auth_headers}
        for attempt in range(1, attempts + 1):
            if self.options.throttle is not None:
                self.options.throttle.acquire()
            started = time.monotonic()
            try:
                response = self._send(method, url, query, all_headers, data, files)
            except ProviderError as exc:
                retry = exc.kind == "connection" or (
                    exc.kind == "timeout" and policy.retry_timeouts
                )
                if retry and attempt < attempts:
                    wait = policy.delay(attempt)
                    log.warning(
                        "%s %s %s failed (%s); retry %d/%d in %.2f s",
                        self.provider,
                        method,
                        shown,
                        exc.kind,
                        attempt,
                        attempts - 1,
                        wait,
                    )
                    time.sleep(wait)
                    continue
                log.warning("%s %s %s failed: %s", self.provider, method, shown, exc.reason)
                raise
            elapsed_ms = (time.monotonic() - started) * 1000
            status = response.status
            log.info(
                "%s %s %s -> %d in %.0f ms (attempt %d)",
                self.provider,
                method,
                shown,
                status,
                elapsed_ms,
                attempt,
            )
            if 200 <= status < 300 or status in allowed:
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if status in RETRYABLE_STATUSES and attempt < attempts:
                if status == 429 and retry_after is not None:
                    if retry_after > policy.max_retry_after:
                        break  # a quota, not a burst: waiting here would only block the caller
                    wait = retry_after + random.uniform(0, min(retry_after * 0.1, 1.0))  # noqa: S311
                    if self.options.throttle is not None:
                        self.options.throttle.defer(wait)
                else:
                    wait = policy.delay(attempt)
                log.warning(
                    "%s %s %s answered %d; retry %d/%d in %.2f s",
                    self.provider,
                    method,
                    shown,
                    status,
                    attempt,
                    attempts - 1,
                    wait,
                )
                time.sleep(wait)
                continue
            break
        error = error_for_status(self.provider, status, retry_after)
        if status != 404:
            log.warning("%s %s %s failed: %s", self.provider, method, shown, error.reason)
        raise error

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str],
        data: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
    ) -> ProviderResponse:
        deadline = time.monotonic() + self.timeout
        try:
            request = self._client.build_request(
                method,
                url,
                params=params,
                headers=headers,
                data=data,
                files=files,
                timeout=httpx.Timeout(self.timeout),
            )
            response = self._client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.options.max_response_bytes:
                        raise ProviderError(
                            self.provider,
                            f"sent an answer larger than {self.options.max_response_bytes} bytes",
                            response.status_code,
                            kind="invalid_response",
                        )
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("deadline")
                    chunks.append(chunk)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise ProviderError(
                self.provider, f"did not answer within {self.timeout:g} s", kind="timeout"
            ) from None
        except httpx.ConnectError:
            raise ProviderError(
                self.provider,
                "could not be reached (connection refused or host unknown)",
                kind="connection",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise ProviderError(
                self.provider, "dropped the connection", kind="connection"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError):  # ValueError: a bad IDNA host
            raise ProviderError(
                self.provider,
                "could not be called (invalid URL or protocol error)",
                kind="connection",
            ) from None
        return ProviderResponse(
            provider=self.provider,
            status=response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            url=redact_url(url),
        )

    # Conveniences ---------------------------------------------------------------------

    def get_json(
        self,
        path: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cacheable: bool = True,
    ) -> Any:
        """GET and parse JSON, through the job's cache when there is one. A 404 is cached
        too, so an unknown id is asked for once per job."""
        cache = self.options.cache if cacheable else None
        key = ResponseCache.key("GET", self.url(path), params) if cache is not None else None
        if cache is not None:
            hit, value = cache.get(key)
            if hit:
                if value is _NOT_FOUND:
                    raise error_for_status(self.provider, 404)
                return value
        try:
            value = self.request("GET", path, params=params, headers=headers).json()
        except ProviderNotFound:
            if cache is not None:
                cache.set(key, _NOT_FOUND)
            raise
        if cache is not None:
            cache.set(key, value)
        return value


def setting(settings: Any, *names: str) -> Any:
    """The first value set under one of `names`, from a mapping (the flat integration keys,
    `tmdb_api_key`) or an object with attributes (app.services.integrations' TmdbSettings
    and friends: `api_key`)."""
    for name in names:
        if isinstance(settings, Mapping):
            value = settings.get(name)
        else:
            value = getattr(settings, name, None)
        if value not in (None, ""):
            return value
    return None


def probe(call: Callable[[], Any], describe: Callable[[Any], str]) -> dict[str, Any]:
    """Run a client's connection check for the integration Test button:
    `{ok, authenticated, status, detail}` — `authenticated` is False on 401/403, True once
    the provider accepted a call, None when that is unknown (no answer, or another error)."""
    try:
        result = call()
    except ProviderError as exc:
        return {
            "ok": False,
            "authenticated": False if exc.kind == "auth" else None,
            "status": exc.upstream_status,
            "detail": exc.message,
        }
    return {"ok": True, "authenticated": True, "status": 200, "detail": describe(result)}
