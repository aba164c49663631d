"""Counts of listings, cached until the catalog changes.

`GET /api/media` answers with the total number of matches. Counting is the costliest part of a
listing (every match is visited: 25,000 index entries for a large library), and scrolling asks
for the same count page after page. So counts are kept per process, keyed by the listing's
filters and by the *catalog revision*: one row (`catalog_revision`) holding a random token.

Every transaction that writes to a table listings filter on gets a new token, written in the
same transaction just before it commits (the session's `before_commit`; for a connection used
without a session, the engine's `commit` event), so the new data and the new token become
visible together:

- a reader that sees the new token counts the new data;
- a reader that saw the old token may count either; what it stores under the old token is
  never looked up again once the new token is visible;
- a rolled-back transaction leaves the old token, and its own token never comes back (random).

Writes are noticed on the connection, by the statements SQLAlchemy runs (`INSERT INTO media…`,
`UPDATE media_variants…`, …). Code that writes through the driver directly (the bulk import)
calls `mark_changed`. Counts of a transaction that has written to the catalog and not yet
committed are never cached. The token row is the last lock a writing transaction takes, right
before its commit, so it cannot take part in a deadlock; writers only queue for it briefly.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Hashable

from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.media import CatalogRevision

# Tables whose rows decide which items a listing matches.
CATALOG_TABLES = frozenset(
    {"media", "media_variants", "media_genres", "media_people", "genres", "people", "libraries"}
)
_DML = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_FLAG = "boxset_catalog_changed"
MAX_ENTRIES = 4096

_counts: dict[tuple, int] = {}
_lock = threading.Lock()


def mark_changed(connection: Connection) -> None:
    """The transaction on `connection` changed listable data (for writes made through the
    driver, which SQLAlchemy does not see)."""
    connection.info[_FLAG] = True


def _after_cursor_execute(conn, _cursor, statement, _params, _context, _executemany) -> None:
    match = _DML.match(statement)
    if match and match.group(1).lower() in CATALOG_TABLES:
        conn.info[_FLAG] = True


def _after_rollback(conn) -> None:
    conn.info.pop(_FLAG, None)


def _before_commit(session: Session) -> None:
    if not session.in_transaction():
        return
    session.flush()  # the changes still pending are written now, so they are noticed
    connection = session.connection()
    if connection.info.pop(_FLAG, False):
        session.execute(update(CatalogRevision).values(revision=secrets.randbits(62)))
        # The token's own write is not a catalog change; nothing re-flags the connection.
        connection.info.pop(_FLAG, None)


def _before_connection_commit(conn) -> None:
    """A write committed on a connection without a session (the session's own commits have
    replaced the token already): replace it here, last thing before the commit."""
    if conn.info.pop(_FLAG, False):
        # Through the driver: the connection is committing. The new token is an integer
        # literal, so no parameter style needs to be right for each driver.
        statement = update(CatalogRevision).values(revision=secrets.randbits(62))
        sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()


def install() -> None:
    """Listen for catalog writes on every engine and session (once per process)."""
    for target, name, fn in (
        (Engine, "after_cursor_execute", _after_cursor_execute),
        (Engine, "rollback", _after_rollback),
        (Engine, "commit", _before_connection_commit),
        (Session, "before_commit", _before_commit),
    ):
        if not event.contains(target, name, fn):
            event.listen(target, name, fn)


def count(key: Hashable, compute: Callable[[], int]) -> int:
    """The cached count for `key` at the current catalog revision, or `compute()` (cached)."""
    connection = db.session.connection()
    if connection.info.get(_FLAG):  # this transaction's own uncommitted changes count too
        return compute()
    revision = db.session.scalar(select(CatalogRevision.revision).limit(1))
    if revision is None:  # no token row: nothing can be cached safely
        return compute()
    entry = (connection.engine.url.render_as_string(hide_password=True), revision, key)
    cached = _counts.get(entry)
    if cached is not None:
        return cached
    value = compute()
    with _lock:
        if len(_counts) >= MAX_ENTRIES:
            _counts.clear()
        _counts[entry] = value
    return value
