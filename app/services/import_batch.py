"""The fast path of an import batch: the same decisions as the row-by-row path in
`app.services.imports`, made for a whole batch with a fixed number of statements.

Per batch: one query for claimed identities, one for items found by their columns, a few for
names and for what matched items already have, and bulk inserts for new items, their names,
extras and identities. New items claim their identities with `ON CONFLICT DO NOTHING ...
RETURNING`: an item whose strongest identity was claimed by a concurrent import meanwhile is
removed again and its row goes through the row-by-row path, which then finds the winner's item.
Rows that look like another row of the same batch go that way too (they must see each other).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.types.json import Json
from sqlalchemy import ARRAY, JSON, any_, cast, delete, func, insert, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models.base import utcnow
from app.models.imports import MediaIdentifier
from app.models.media import (
    TV_TYPES,
    Genre,
    Media,
    MediaGenre,
    MediaMetadata,
    MediaPerson,
    MediaSeason,
    MediaVariant,
    Person,
)
from app.services import catalog_revision, imports
from app.services.imports import ImportRow, RowResult, gtin, identity_keys
from app.services.media import SCALAR_FIELDS, TV_FIELDS, name_key, season_complete, sort_title

MATCHED_BY = imports._MATCHED_BY
NAME_ROLES = (("genres", "genre"), ("directors", "director"), ("cast", "cast"))  # report order


def apply(ctx, batch: list[ImportRow]) -> tuple[dict[int, RowResult], list[ImportRow]]:
    """Results of the rows this path settled, and the rows left to the row-by-row path."""
    results: dict[int, RowResult] = {}
    rows: list[ImportRow] = []
    for row in batch:
        if row.skip:
            results[row.row] = RowResult("skipped", detail=row.skip)
        elif row.error:
            results[row.row] = RowResult("failed", detail=row.error)
        else:
            rows.append(row)
    rows, deferred = _split_lookalikes(rows)
    if not rows:
        return results, deferred
    keys = {row.row: identity_keys(row) for row in rows}
    found = _match(ctx, rows, keys)
    creates = [row for row in rows if row.row not in found]
    updates = [(row, *found[row.row]) for row in rows if row.row in found]
    _resolve_names(ctx, rows)
    lost = _create(ctx, creates, keys, results)
    deferred.extend(lost)
    _update(ctx, updates, keys, results)
    for row in rows:
        if row.note and row.row in results:
            result = results[row.row]
            result.detail = "; ".join(p for p in (result.detail, row.note) if p)
    return results, deferred


def _split_lookalikes(rows: list[ImportRow]) -> tuple[list[ImportRow], list[ImportRow]]:
    """Rows sharing an identity with an earlier row of the batch are left for later."""
    seen: set[tuple[str, str]] = set()
    fast, later = [], []
    for row in rows:
        f = row.fields  # titles compare without the year: a missing year matches any
        mine = {k for k in identity_keys(row) if k[0] != "title"}
        mine.add(("title", f"{f.get('media_type') or 'movie'}|{sort_title(f['title'])}"))
        (later if mine & seen else fast).append(row)
        seen |= mine
    return fast, later


# --- matching ---------------------------------------------------------------------------------


def _match(ctx, rows: list[ImportRow], keys: dict[int, list]) -> dict[int, tuple[Media, str]]:
    job = ctx.job
    pairs = {pair for row_keys in keys.values() for pair in row_keys}
    claimed = dict(
        ((kind, value), media_id)
        for kind, value, media_id in db.session.execute(
            select(MediaIdentifier.kind, MediaIdentifier.value, MediaIdentifier.media_id).where(
                MediaIdentifier.library_id == job.library_id,
                # kind too: with all three index columns constrained the lookup is an index
                # probe per value, not a scan of the library's identities
                _among(MediaIdentifier.kind, {kind for kind, _value in pairs}),
                _among(MediaIdentifier.value, {value for _kind, value in pairs}),
            )
        )
        if (kind, value) in pairs
    )
    items = _load(set(claimed.values()))
    found: dict[int, tuple[Media, str]] = {}
    unclaimed: list[ImportRow] = []
    for row in rows:
        for kind, value in keys[row.row]:
            item = items.get(claimed.get((kind, value)))
            if item is not None and not (kind == "title" and imports._conflicts(item, row.fields)):
                found[row.row] = (item, MATCHED_BY[kind])
                break
        else:
            unclaimed.append(row)
    found.update(_match_columns(ctx, unclaimed))
    return found


def _load(ids: set[int]) -> dict[int, Media]:
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(select(Media).where(_among(Media.id, ids)))}


def _match_columns(ctx, rows: list[ImportRow]) -> dict[int, tuple[Media, str]]:
    """Items added by hand (or before identities were claimed), by their columns."""
    if not rows:
        return {}
    job = ctx.job
    upcs, imdbs, tmdbs, titles = set(), set(), set(), set()
    for row in rows:
        f = row.fields
        if f.get("upc"):
            upcs.update(imports._upc_spellings(f["upc"]))
        if f.get("imdb_id"):
            imdbs.add(f["imdb_id"])
        if f.get("tmdb_id"):
            tmdbs.add(f["tmdb_id"])
        titles.add(sort_title(f["title"]))
    scope = (Media.space_id == job.space_id, Media.library_id == job.library_id)
    wanted = [(Media.sort_title, titles), (Media.upc, upcs), (Media.imdb_id, imdbs),
              (Media.tmdb_id, tmdbs)]  # fmt: skip
    candidates: dict[int, Media] = {}
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        # Exact look-ups by B-tree only: for `sort_title = ANY(...)` PostgreSQL may pick the
        # trigram index (built for substring search), which is very slow at equality on
        # titles sharing most trigrams. Bitmap scans are the only way it can use that index.
        db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
    for column, values in wanted:  # one query per column, so that each uses its index
        if values:
            for item in db.session.scalars(select(Media).where(*scope, _among(column, values))):
                candidates[item.id] = item
    if postgres:
        db.session.execute(text("SET LOCAL enable_bitmapscan = on"))
    by_upc, by_imdb, by_tmdb, by_title = (defaultdict(list) for _ in range(4))
    for item in sorted(candidates.values(), key=lambda m: m.id):
        if item.upc:
            by_upc[gtin(item.upc)].append(item)
        if item.imdb_id:
            by_imdb[item.imdb_id].append(item)
        if item.tmdb_id:
            by_tmdb[item.tmdb_id].append(item)
        by_title[(item.sort_title, item.media_type)].append(item)
    found: dict[int, tuple[Media, str]] = {}
    for row in rows:
        hit = _column_hit(row.fields, by_upc, by_imdb, by_tmdb, by_title)
        if hit is not None:
            found[row.row] = hit
    return found


def _column_hit(f, by_upc, by_imdb, by_tmdb, by_title) -> tuple[Media, str] | None:
    if f.get("upc") and by_upc.get(gtin(f["upc"])):
        return by_upc[gtin(f["upc"])][0], "upc"
    if f.get("imdb_id") and by_imdb.get(f["imdb_id"]):
        return by_imdb[f["imdb_id"]][0], "imdb_id"
    tv = f.get("media_type") in TV_TYPES
    for item in by_tmdb.get(f.get("tmdb_id"), []) if f.get("tmdb_id") else []:
        if (item.media_type in TV_TYPES) == tv:
            return item, "tmdb_id"
    for item in by_title.get((sort_title(f["title"]), f.get("media_type") or "movie"), [])[:5]:
        year_ok = not f.get("year") or item.year in (None, f["year"])
        if year_ok and not imports._conflicts(item, f):
            return item, "title_year_type"
    return None


# --- names ------------------------------------------------------------------------------------


def _resolve_names(ctx, rows: list[ImportRow]) -> None:
    """Make sure every genre and person of the batch has an id in the job's caches."""
    genres = {name_key(n)[:100]: n for r in rows for n in r.fields.get("genres") or []}
    people = {
        name_key(n)[:300]: n
        for r in rows
        for key in ("directors", "cast")
        for n in r.fields.get(key) or []
    }
    _ensure(ctx, Genre, ctx.genres, genres, 100)
    _ensure(ctx, Person, ctx.people, people, 300)


def _ensure(ctx, model, cache: dict[str, int], wanted: dict[str, str], width: int) -> None:
    missing = [k for k in wanted if k not in cache]
    if not missing:
        return
    _bulk(
        model,
        [{"name": " ".join(wanted[k].split())[:width], "name_key": k} for k in missing],
        ignore_conflicts=True,
    )
    cache.update(
        db.session.execute(
            select(model.name_key, model.id).where(_among(model.name_key, missing))
        ).all()
    )


def _among(column, values):
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter however many values
    (thousands of separate parameters cost more to send than the query takes)."""
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == any_(cast(values, ARRAY(column.type)))
    return column.in_(values)


def _name_rows(ctx, media_id: int, f: dict[str, Any], roles: set[str]) -> tuple[list, list]:
    genres = []
    if "genre" in roles:
        ids = dict.fromkeys(ctx.genres[name_key(n)[:100]] for n in f.get("genres") or [])
        genres = [{"media_id": media_id, "genre_id": g} for g in ids]
    people = []
    for key, role in (("directors", "director"), ("cast", "cast")):
        if role not in roles:
            continue
        seen: set[int] = set()
        for order, name in enumerate(f.get(key) or []):
            person_id = ctx.people[name_key(name)[:300]]
            if person_id not in seen:
                seen.add(person_id)
                people.append({"media_id": media_id, "person_id": person_id, "role": role,
                               "billing_order": order})  # fmt: skip
    return genres, people


# --- creating ---------------------------------------------------------------------------------


def _create(ctx, rows: list[ImportRow], keys, results: dict[int, RowResult]) -> list[ImportRow]:
    """Insert new items in bulk; returns the rows whose items lost an identity race."""
    if not rows:
        return []
    job = ctx.job
    now = utcnow()
    values = []
    for row in rows:
        f = row.fields
        item = {name: f.get(name) for name in SCALAR_FIELDS}
        item.update(
            space_id=job.space_id, library_id=job.library_id, added_by=job.created_by,
            import_source=job.provider, sort_title=sort_title(f["title"]),
            source_provider=job.provider.split("_")[-1] if row.source_key else None,
            source_external_id=row.source_key, created_at=now, updated_at=now,
            media_type=f.get("media_type") or "movie",
        )  # fmt: skip
        values.append(item)
    ids = _insert_media(values)
    identities = []
    for row, media_id in zip(rows, ids, strict=True):
        for kind, value in keys[row.row]:
            identities.append(
                {"library_id": job.library_id, "kind": kind, "value": value, "media_id": media_id}
            )
    _bulk(MediaIdentifier, identities, ignore_conflicts=True)
    strongest = {keys[row.row][0] for row in rows}
    won = {
        (kind, value, media_id)
        for kind, value, media_id in db.session.execute(
            select(MediaIdentifier.kind, MediaIdentifier.value, MediaIdentifier.media_id).where(
                MediaIdentifier.library_id == job.library_id,
                _among(MediaIdentifier.kind, {kind for kind, _value in strongest}),
                _among(MediaIdentifier.value, {value for _kind, value in strongest}),
            )
        )
    }
    lost_rows, lost_ids = [], []
    genres, people, extras = [], [], _Extras()
    for row, media_id in zip(rows, ids, strict=True):
        if (*keys[row.row][0], media_id) not in won:
            lost_rows.append(row)
            lost_ids.append(media_id)
            continue
        g, p = _name_rows(ctx, media_id, row.fields, {"genre", "director", "cast"})
        genres += g
        people += p
        extras.add(media_id, row, set(), row.fields.get("media_type") or "movie")
        results[row.row] = RowResult("created", media_id=media_id)
    if lost_ids:  # a concurrent import made these first: match them again, row by row
        db.session.execute(delete(Media).where(Media.id.in_(lost_ids)))
    _bulk(MediaGenre, genres)
    _bulk(MediaPerson, people)
    extras.flush()
    return lost_rows


def _python_defaults(table, row: dict[str, Any]) -> dict[str, Any]:
    """The model's Python-side defaults (timestamps, flags) for columns a row leaves out: the
    driver's executemany does not apply them as SQLAlchemy would."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if (
            column.name in row
            or default is None
            or (not default.is_scalar and not default.is_callable)
        ):
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    return defaults


def _insert_media(values: list[dict[str, Any]]) -> list[int]:
    """Insert items, returning their ids in order. PostgreSQL: ids drawn from the sequence
    first, then one prepared INSERT sent as a pipeline (a multi-row INSERT ... RETURNING of
    thousands of parameters costs more to build and parse than to run)."""
    if db.engine.dialect.name != "postgresql":
        returning = insert(Media).returning(Media.id, sort_by_parameter_order=True)
        return list(db.session.scalars(returning, values))
    series = func.generate_series(1, len(values))
    sequence = func.pg_get_serial_sequence("media", "id")
    ids = list(db.session.scalars(select(func.nextval(sequence)).select_from(series)))
    for item, media_id in zip(values, ids, strict=True):
        item["id"] = media_id
    _bulk(Media, values)
    return ids


def _bulk(model, rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """Insert many rows with one prepared statement. PostgreSQL: psycopg's own executemany
    (pipelined) rather than SQLAlchemy's multi-row VALUES, whose thousands of parameters cost
    more to build and parse than the insert takes."""
    if not rows:
        return
    table = model.__table__
    if db.engine.dialect.name != "postgresql":
        statement = sqlite_insert(table)
        db.session.execute(
            statement.on_conflict_do_nothing() if ignore_conflicts else statement, rows
        )
        return
    defaults = _python_defaults(table, rows[0])
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    columns = [table.c[name].name for name in rows[0]]  # KeyError for anything not a column
    sql = pgsql.SQL("INSERT INTO {} ({}) VALUES ({}){}").format(
        pgsql.Identifier(table.name),
        pgsql.SQL(", ").join(map(pgsql.Identifier, columns)),
        pgsql.SQL(", ").join(pgsql.Placeholder() * len(columns)),
        pgsql.SQL(" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
    )
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    params = [tuple(Json(row[c]) if c in as_json else row[c] for c in columns) for row in rows]
    connection = db.session.connection()
    if table.name in catalog_revision.CATALOG_TABLES:
        catalog_revision.mark_changed(connection)  # the driver's statements pass unseen
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        try:
            cursor.executemany(sql, params)
        except psycopg.errors.IntegrityError as exc:  # as SQLAlchemy would raise them, so the
            raise IntegrityError(str(sql), None, exc) from exc  # callers' fallbacks apply
        except psycopg.OperationalError as exc:  # deadlock, serialisation failure
            raise OperationalError(str(sql), None, exc) from exc


class _Extras:
    """Metadata, seasons and variants to insert for a batch."""

    def __init__(self) -> None:
        self.metadata: list[dict] = []
        self.seasons: list[dict] = []
        self.variants: list[dict] = []

    def add(self, media_id: int, row: ImportRow, present: set[str], media_type: str) -> list[str]:
        """Queue what the item lacks; `present` (its metadata/season/variant keys) is updated,
        so that two rows filling the same item in one batch do not add a thing twice."""
        changed: list[str] = []
        for key, value in row.metadata.items():
            if f"meta:{key}" not in present and value not in (None, ""):
                present.add(f"meta:{key}")
                self.metadata.append({"media_id": media_id, "key": key[:100], "value": str(value)})
                changed.append(f"metadata {key}")
        if media_type == "tv_series":
            for season in row.seasons:
                number = season["season_number"]
                if f"season:{number}" in present:
                    continue
                present.add(f"season:{number}")
                expected, available = (
                    season.get("expected_episodes"),
                    season.get("available_episodes"),
                )
                self.seasons.append(
                    {"media_id": media_id, "season_number": number,
                     "expected_episodes": expected, "available_episodes": available,
                     "is_complete": season_complete(expected, available)}
                )  # fmt: skip
                changed.append(f"season {number}")
        for variant in row.variants:
            if variant.get("source_key") and f"variant:{variant['source_key']}" in present:
                continue
            if variant.get("source_key"):
                present.add(f"variant:{variant['source_key']}")
            self.variants.append({"media_id": media_id, **variant})
            changed.append(
                ("variant " + (variant.get("edition") or variant.get("resolution") or "")).strip()
            )
        return changed

    def flush(self) -> None:
        _bulk(MediaMetadata, self.metadata)
        _bulk(MediaSeason, self.seasons)
        _bulk(MediaVariant, self.variants)


# --- updating ---------------------------------------------------------------------------------


def _present(ids: list[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """What matched items already have: their name roles, and metadata/season/variant keys."""
    roles: dict[int, set[str]] = defaultdict(set)
    extras: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return roles, extras
    for (media_id,) in db.session.execute(
        select(MediaGenre.media_id).where(_among(MediaGenre.media_id, ids)).distinct()
    ):
        roles[media_id].add("genre")
    for media_id, role in db.session.execute(
        select(MediaPerson.media_id, MediaPerson.role)
        .where(_among(MediaPerson.media_id, ids))
        .distinct()
    ):
        roles[media_id].add(role)
    for model, column, prefix in (
        (MediaMetadata, MediaMetadata.key, "meta"),
        (MediaSeason, MediaSeason.season_number, "season"),
        (MediaVariant, MediaVariant.source_key, "variant"),
    ):
        for media_id, value in db.session.execute(
            select(model.media_id, column).where(_among(model.media_id, ids))
        ):
            extras[media_id].add(f"{prefix}:{value}")
    return roles, extras


def _update(ctx, updates: list[tuple], keys, results: dict[int, RowResult]) -> None:
    """Fill what matched items lack; the household's own values are never overwritten."""
    if not updates:
        return
    job = ctx.job
    roles, present = _present(list({item.id for _row, item, _by in updates}))
    genres, people, extras, identities = [], [], _Extras(), []
    for row, item, matched_by in updates:
        f = row.fields
        changed = [
            name
            for name in SCALAR_FIELDS
            if f.get(name) is not None
            and getattr(item, name) is None
            and (name not in TV_FIELDS or item.media_type in TV_TYPES)
        ]
        for name in changed:
            setattr(item, name, f[name])
        wanted = {
            role
            for key, role in (("genres", "genre"), ("directors", "director"), ("cast", "cast"))
            if f.get(key) and role not in roles[item.id]
        }
        g, p = _name_rows(ctx, item.id, f, wanted)
        genres += g
        people += p
        roles[item.id] |= wanted
        changed += [key for key, role in NAME_ROLES if role in wanted]
        added = extras.add(item.id, row, present[item.id], item.media_type)
        changed += added
        if changed:
            item.updated_at = utcnow()
            results[row.row] = RowResult("updated", media_id=item.id, matched_by=matched_by,
                                         detail="Filled: " + ", ".join(changed))  # fmt: skip
        else:
            results[row.row] = RowResult("skipped", media_id=item.id, matched_by=matched_by,
                                         detail="Already in the library.")  # fmt: skip
        identities += [
            {"library_id": job.library_id, "kind": k, "value": v, "media_id": item.id}
            for k, v in keys[row.row]
        ]
    db.session.flush()
    _bulk(MediaGenre, genres)
    _bulk(MediaPerson, people)
    extras.flush()
    _bulk(MediaIdentifier, identities, ignore_conflicts=True)


__all__ = ["apply"]
