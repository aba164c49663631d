"""What a service may know about the request that caused it, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


NO_REQUEST = RequestInfo()
