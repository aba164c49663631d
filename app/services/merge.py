"""Near-duplicates: find likely duplicates in a space, merge them into one kept item, and undo
a merge.

Duplicates are found with GROUP BY/HAVING queries on indexed columns (the same TMDB id and
type, the same UPC, the same normalised title), so a large space is never loaded into memory.
A merge moves the merged items' variants, seasons, metadata and episodes onto the kept item
and deletes the merged items; the kept item's own fields are left as they are. Everything
the undo needs (the deleted rows, what moved, what was dropped because the kept item already
had that season number or metadata key) is kept in a `MediaMerge` snapshot. Undoing recreates
the items with their original ids and moves everything back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Row,
    String,
    Table,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import REGCLASS

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import iso, utcnow
from app.models.imports import MediaIdentifier
from app.models.media import (
    Genre,
    Media,
    MediaGenre,
    MediaMerge,
    MediaMetadata,
    MediaPerson,
    MediaSeason,
    MediaVariant,
    Person,
)
from app.models.tenancy import Library
from app.services import activity, media, tenancy
from app.services.context import RequestInfo
from app.services.covers import cover_urls
from app.services.tenancy import Scope

MAX_MERGE = 50  # items merged away in one go
MAX_GROUP_ITEMS = 50  # items listed per duplicate group
REASONS = ("tmdb", "upc", "title")
SNAPSHOT_VERSION = 1


# --- finding duplicates ------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePage:
    groups: list[dict[str, Any]]
    count: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return max(1, -(-self.count // self.limit))

    @property
    def has_more(self) -> bool:
        return self.page < self.total_pages


def _const(sql: str):
    """A constant column (not a bound parameter, so PostgreSQL can type it in a UNION)."""
    return literal_column(sql)


def _group_parts(space_id: int, reason: str | None) -> list:
    """One GROUP BY/HAVING query per reason: (rank, key, kind, size) of each group."""
    in_space = Media.space_id == space_id
    several = func.count() > 1
    parts = []
    if reason in (None, "tmdb"):
        parts.append(
            select(
                _const("0").label("rank"),
                cast(Media.tmdb_id, String(20)).label("key"),
                func.coalesce(Media.tmdb_media_type, _const("''")).label("kind"),
                func.count().label("size"),
            )
            .where(in_space, Media.tmdb_id.is_not(None))
            .group_by(Media.tmdb_id, Media.tmdb_media_type)
            .having(several)
        )
    if reason in (None, "upc"):
        parts.append(
            select(
                _const("1").label("rank"),
                Media.upc.label("key"),
                _const("''").label("kind"),
                func.count().label("size"),
            )
            .where(in_space, Media.upc.is_not(None))
            .group_by(Media.upc)
            .having(several)
        )
    if reason in (None, "title"):
        # Series with series, everything else (but episodes, whose titles repeat across
        # series: "Pilot") with each other.
        for kind, types in (("tv_series", ("tv_series",)), ("", ("movie", "other"))):
            parts.append(
                select(
                    _const("2").label("rank"),
                    Media.sort_title.label("key"),
                    _const(f"'{kind}'").label("kind"),
                    func.count().label("size"),
                )
                .where(in_space, Media.media_type.in_(types))
                .group_by(Media.sort_title)
                .having(several)
            )
    return parts


SUMMARY_COLUMNS = (
    Media.id, Media.title, Media.year, Media.format, Media.media_type, Media.library_id,
    Media.added_by, Media.upc, Media.tmdb_id, Media.tmdb_media_type, Media.imdb_id,
    Media.cover_key, Media.cover_url, Media.created_at,
)  # fmt: skip


def _member_parts(space_id: int, groups: list[tuple[int, str, str]]) -> list:
    """The items of the page's groups: one select per reason (whatever the number of groups),
    each row labelled with its group (g_rank, g_key, g_kind, as `_group_parts` names it) and
    its place in that group by id (g_row), so every group is cut at MAX_GROUP_ITEMS."""
    in_space = Media.space_id == space_id

    def part(rank: int, key, kind, *conditions):
        group = (key, kind) if rank == 0 else (key,)  # only TMDB's kind is not a constant
        return select(
            *SUMMARY_COLUMNS,
            _const(str(rank)).label("g_rank"),
            key.label("g_key"),
            kind.label("g_kind"),
            func.row_number().over(partition_by=group, order_by=Media.id).label("g_row"),
        ).where(in_space, *conditions)

    parts = []
    tmdb = [(int(key), kind) for rank, key, kind in groups if rank == 0]
    if tmdb:
        kind = func.coalesce(Media.tmdb_media_type, _const("''"))
        parts.append(
            part(
                0,
                cast(Media.tmdb_id, String(20)),
                kind,
                Media.tmdb_id.in_(sorted({tmdb_id for tmdb_id, _ in tmdb})),  # the index
                tuple_(Media.tmdb_id, kind).in_(tmdb),
            )
        )
    upcs = [key for rank, key, _ in groups if rank == 1]
    if upcs:
        parts.append(part(1, Media.upc, _const("''"), Media.upc.in_(upcs)))
    for kind, types in (("tv_series", ("tv_series",)), ("", ("movie", "other"))):
        titles = [key for rank, key, k in groups if rank == 2 and k == kind]
        if titles:
            parts.append(
                part(
                    2,
                    Media.sort_title,
                    _const(f"'{kind}'"),
                    Media.sort_title.in_(titles),
                    Media.media_type.in_(types),
                )
            )
    return parts


def _group_items(space_id: int, groups: list[tuple[int, str, str]]) -> dict[tuple, list[Row]]:
    """The items of each (rank, key, kind) group, in id order, in one query for all groups
    (the columns a summary shows: no full rows for big groups)."""
    found: dict[tuple, list[Row]] = {group: [] for group in groups}
    if not groups:
        return found
    members = union_all(*_member_parts(space_id, groups)).subquery()
    rows = db.session.execute(
        select(members).where(members.c.g_row <= MAX_GROUP_ITEMS).order_by(members.c.id)
    )
    for row in rows:
        found[(int(row.g_rank), row.g_key, row.g_kind)].append(row)
    return found


def summary_out(item: Media | Row, scope: Scope) -> dict[str, Any]:
    cover, thumb = cover_urls(item.cover_key, item.cover_url)
    return {
        "id": item.id,
        "title": item.title,
        "year": item.year,
        "format": item.format,
        "media_type": item.media_type,
        "library_id": item.library_id,
        "added_by": item.added_by,
        "upc": item.upc,
        "tmdb_id": item.tmdb_id,
        "tmdb_media_type": item.tmdb_media_type,
        "imdb_id": item.imdb_id,
        "cover_url": cover,
        "thumb_url": thumb,
        "created_at": iso(item.created_at),
        "editable": media.may_edit(scope, item),
    }


def _group_key(rank: int, key: str, kind: str) -> str:
    return f"{kind}:{key}" if rank == 0 and kind else key


def find_duplicates(
    scope: Scope, *, reason: str | None = None, page: int = 1, limit: int = 50
) -> DuplicatePage:
    """Groups of likely duplicates in the scope's space, strongest reason first (TMDB id, UPC,
    title), `limit` groups per page. `count` counts (reason, key) groups; a page shows a group
    with exactly the same items as one before it once, listing both `reasons`. Two statements
    however many groups a page shows: the page of groups, then all their items."""
    groups = union_all(*_group_parts(scope.space_id, reason)).subquery()
    rows = db.session.execute(  # the page and the total in one pass over the groups
        select(groups.c.rank, groups.c.key, groups.c.kind, groups.c.size, func.count().over())
        .order_by(groups.c.rank, groups.c.key, groups.c.kind)
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    # Past the last page there is no row to carry the total: count on its own.
    count = rows[0][4] if rows else db.session.scalar(select(func.count()).select_from(groups))
    result: list[dict[str, Any]] = []
    by_items: dict[tuple[int, ...], dict[str, Any]] = {}
    members = _group_items(scope.space_id, [(int(r), key, kind) for r, key, kind, *_ in rows])
    for rank, key, kind, size, _total in rows:
        items = members[(int(rank), key, kind)]
        ids = tuple(i.id for i in items)
        if ids in by_items:
            by_items[ids]["reasons"].append(REASONS[int(rank)])
            continue
        group = {
            "reason": REASONS[int(rank)],
            "reasons": [REASONS[int(rank)]],
            "key": _group_key(int(rank), key, kind),
            "size": int(size),
            "items": [summary_out(i, scope) for i in items],
        }
        by_items[ids] = group
        result.append(group)
    return DuplicatePage(groups=result, count=count or 0, page=page, limit=limit)


# --- rows as JSON ------------------------------------------------------------------------------


def _table(model) -> Table:
    return model.__table__


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _rows(model, *conditions) -> list[dict[str, Any]]:
    """Every column of the matching rows, JSON-ready, in id order."""
    table = _table(model)
    result = db.session.execute(select(table).where(*conditions).order_by(table.c.id))
    return [{k: _jsonable(v) for k, v in row.items()} for row in result.mappings()]


def _row_of(item: Media) -> dict[str, Any]:
    """Every column of an item loaded (and locked) in this transaction, as `_rows` gives it,
    without reading the row again."""
    return {c.name: _jsonable(getattr(item, c.key)) for c in _table(Media).columns}


def _from_json(model, data: dict[str, Any]) -> dict[str, Any]:
    """Column values back from a snapshot row (dates and times parsed again)."""
    values: dict[str, Any] = {}
    for column in _table(model).columns:
        if column.name not in data:
            continue
        value = data[column.name]
        if isinstance(value, str):
            kind = getattr(column.type, "impl_instance", column.type)  # UTCDateTime wraps one
            if isinstance(kind, DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = date.fromisoformat(value)
        values[column.name] = value
    return values


# --- permissions -------------------------------------------------------------------------------


def scope_for_merge(user: BoxsetUser, merge_id: int) -> Scope:
    """The scope of the space a merge happened in, if the caller belongs to it (else 404)."""
    space_id = db.session.scalar(select(MediaMerge.space_id).where(MediaMerge.id == merge_id))
    return tenancy.scope_of_row(user, space_id, "Merge not found.")


def _may_undo(scope: Scope, record: MediaMerge) -> bool:
    return scope.at_least("admin") or (
        scope.at_least("member") and record.actor_id == scope.user_id
    )


# --- merging -----------------------------------------------------------------------------------


def _check_ids(keep_id: int, merge_ids: list[int]) -> None:
    if not 1 <= len(merge_ids) <= MAX_MERGE:
        raise Invalid({"merge_ids": [f"Merge 1 to {MAX_MERGE} items at a time."]})
    if len(set(merge_ids)) != len(merge_ids):
        raise Invalid({"merge_ids": ["Name each item once."]})
    if keep_id in merge_ids:
        raise Invalid({"merge_ids": ["The kept item cannot also be merged away."]})


def _lock_items(scope: Scope, ids: list[int]) -> dict[int, Media]:
    """The items, locked until commit (in id order, so concurrent merges cannot deadlock);
    404 unless every one is in the scope's space."""
    items = db.session.scalars(
        select(Media)
        .where(Media.id.in_(ids), Media.space_id == scope.space_id)
        .order_by(Media.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {item.id: item for item in items}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"Item {missing[0]} not found.")
    return found


def _check_types(kept: Media, merged: list[Media]) -> None:
    if any((m.media_type == "tv_series") != (kept.media_type == "tv_series") for m in merged):
        raise Invalid(
            {
                "merge_ids": [
                    "A TV series can only be merged with TV series (seasons would be lost)."
                ]
            }
        )


def _genres_of(media_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Genre.id, Genre.name)
        .join(MediaGenre, MediaGenre.genre_id == Genre.id)
        .where(MediaGenre.media_id == media_id)
        .order_by(Genre.name, Genre.id)
    )
    return [{"id": genre_id, "name": name} for genre_id, name in rows]


def _people_of(media_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Person.id, Person.name, MediaPerson.role, MediaPerson.billing_order)
        .join(MediaPerson, MediaPerson.person_id == Person.id)
        .where(MediaPerson.media_id == media_id)
        .order_by(MediaPerson.role, MediaPerson.billing_order, Person.id)
    )
    return [
        {"id": person_id, "name": name, "role": role, "billing_order": order}
        for person_id, name, role, order in rows
    ]


def _values(column, condition) -> set:
    return set(db.session.scalars(select(column).where(condition)))


def _split(rows: list[dict[str, Any]], field: str, taken: set) -> tuple[list, list]:
    """Rows whose `field` the kept item does not have yet (moved), and the others (dropped)."""
    moved, dropped = [], []
    for row in rows:
        (dropped if row[field] in taken else moved).append(row)
        taken.add(row[field])
    return moved, dropped


def _move(model, rows: list[dict[str, Any]], to_media_id: int) -> None:
    if rows:
        table = _table(model)
        db.session.execute(
            update(table)
            .where(table.c.id.in_([r["id"] for r in rows]))
            .values(media_id=to_media_id)
        )


def _absorb(kept: Media, item: Media, seasons: set, keys: set) -> dict[str, Any]:
    """Move what belongs to `item` onto the kept item; returns the item's snapshot."""
    variants = _rows(MediaVariant, MediaVariant.media_id == item.id)
    moved_seasons, dropped_seasons = _split(
        _rows(MediaSeason, MediaSeason.media_id == item.id), "season_number", seasons
    )
    moved_metadata, dropped_metadata = _split(
        _rows(MediaMetadata, MediaMetadata.media_id == item.id), "key", keys
    )
    episodes = list(db.session.scalars(select(Media.id).where(Media.series_id == item.id)))
    entry = {
        "row": _row_of(item),
        "genres": _genres_of(item.id),
        "people": _people_of(item.id),
        "variants": variants,
        "seasons": moved_seasons,
        "dropped_seasons": dropped_seasons,
        "metadata": moved_metadata,
        "dropped_metadata": dropped_metadata,
        "episodes": episodes,
        # Import identities follow the item, so that re-importing finds the kept one.
        "identifiers": _rows(MediaIdentifier, MediaIdentifier.media_id == item.id),
    }
    _move(MediaIdentifier, entry["identifiers"], kept.id)
    # From another library of the space they move into the kept item's library (where its
    # imports look), unless that library gives the identity to an item already.
    media.move_identities([kept.id], kept.library_id)
    _move(MediaVariant, variants, kept.id)
    _move(MediaSeason, moved_seasons, kept.id)
    _move(MediaMetadata, moved_metadata, kept.id)
    if episodes:
        db.session.execute(  # a move, not an edit of the episodes: updated_at stays
            update(Media)
            .where(Media.id.in_(episodes))
            .values(series_id=kept.id, updated_at=Media.updated_at)
        )
    return entry


def merge_media(
    scope: Scope, keep_id: int, merge_ids: list[int], info: RequestInfo
) -> tuple[Media, MediaMerge]:
    """Merge `merge_ids` into `keep_id`, all in the scope's space, in one transaction."""
    scope.require("member", "merge items")
    _check_ids(keep_id, merge_ids)
    items = _lock_items(scope, [keep_id, *merge_ids])
    for item_id in (keep_id, *merge_ids):
        media.require_editable(scope, items[item_id], "merge")
    kept, merged = items[keep_id], [items[i] for i in merge_ids]
    _check_types(kept, merged)
    seasons = _values(MediaSeason.season_number, MediaSeason.media_id == kept.id)
    keys = _values(MediaMetadata.key, MediaMetadata.media_id == kept.id)
    titles = [item.title for item in merged]
    entries = [_absorb(kept, item, seasons, keys) for item in merged]
    db.session.flush()
    for item in merged:
        db.session.delete(item)
    record = MediaMerge(
        space_id=scope.space_id,
        kept_id=kept.id,
        merged_ids=list(merge_ids),
        actor_id=scope.user_id,
        snapshot={"version": SNAPSHOT_VERSION, "items": entries},
    )
    db.session.add(record)
    db.session.flush()
    activity.record(
        "media.merge", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=kept.id, info=info,
        details={"merge_id": record.id, "kept_id": kept.id, "merged_ids": list(merge_ids),
                 "titles": titles, "kept_title": kept.title},
    )  # fmt: skip
    db.session.commit()
    return kept, record


# --- undoing -----------------------------------------------------------------------------------


def _lock_merge(scope: Scope, merge_id: int) -> MediaMerge:
    record = db.session.scalar(
        select(MediaMerge)
        .where(MediaMerge.id == merge_id, MediaMerge.space_id == scope.space_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if record is None:
        raise NotFound("Merge not found.")
    return record


def _existing(model, ids: Iterable[int]) -> set[int]:
    ids = list(ids)
    if not ids:
        return set()
    table = _table(model)
    return set(db.session.scalars(select(table.c.id).where(table.c.id.in_(ids))))


def _check_ids_free(entries: list[dict[str, Any]]) -> None:
    """SQLite reuses the highest id once its row is deleted: an item added after the merge
    may hold a merged item's id, and then the merge can no longer be undone exactly."""
    taken = sorted(_existing(Media, (e["row"]["id"] for e in entries)))
    if taken:
        raise Conflict(
            f"Item id {taken[0]} is now used by another item, so this merge can no longer be "
            "undone."
        )


def _insert(model, rows: list[dict[str, Any]], media_id: int) -> None:
    """Recreate rows on `media_id`, with their old ids when those are still free."""
    taken = _existing(model, (r["id"] for r in rows))
    for row in rows:
        values = {**_from_json(model, row), "media_id": media_id}
        if values["id"] in taken:
            del values["id"]
        db.session.execute(insert(_table(model)).values(**values))


def _move_back(model, rows: list[dict[str, Any]], kept_id: int, media_id: int) -> None:
    """Rows still on the kept item exactly as the merge left them go back. Rows changed,
    replaced or deleted since are recreated from the snapshot, and whatever took their place
    stays where it is (on SQLite a new row may even have been given the old id)."""
    if not rows:
        return
    table = _table(model)
    current = {r["id"]: r for r in _rows(model, table.c.id.in_([r["id"] for r in rows]))}
    unchanged = [r["id"] for r in rows if current.get(r["id"]) == {**r, "media_id": kept_id}]
    if unchanged:
        db.session.execute(update(table).where(table.c.id.in_(unchanged)).values(media_id=media_id))
    _insert(model, [r for r in rows if r["id"] not in unchanged], media_id)


def _restore_row(scope: Scope, kept: Media, data: dict[str, Any]) -> dict[str, Any]:
    """The item's row as it was, with references to things deleted since made safe."""
    values = _from_json(Media, data)
    values["space_id"] = scope.space_id
    library = db.session.get(Library, values["library_id"])
    if library is None or library.space_id != scope.space_id:
        values["library_id"] = kept.library_id
    if (
        values.get("added_by") is not None
        and db.session.get(BoxsetUser, values["added_by"]) is None
    ):
        values["added_by"] = None
    if values.get("series_id") is not None:
        series = db.session.get(Media, values["series_id"])
        if series is None or series.space_id != scope.space_id:
            values["series_id"] = None
    return values


def _name_id(model, entry: dict[str, Any]) -> int:
    """The genre or person a snapshot names: the same row if it still exists, else the one
    with that name (created if need be)."""
    if db.session.get(model, entry["id"]) is not None:
        return entry["id"]
    key = media.name_key(entry["name"])
    row = db.session.scalar(select(model).where(model.name_key == key))
    if row is None:
        row = model(name=entry["name"], name_key=key)
        db.session.add(row)
        db.session.flush()
    return row.id


def _restore_identifiers(kept: Media, rows: list[dict[str, Any]], item_id: int) -> None:
    """The item's import identities go back to it, in their own library: those the kept item
    still holds, and those the merge had to drop, unless claimed anew since."""
    if not rows:
        return
    db.session.execute(
        delete(MediaIdentifier).where(
            MediaIdentifier.id.in_([r["id"] for r in rows]), MediaIdentifier.media_id == kept.id
        )
    )
    for r in rows:
        claimed = db.session.scalar(
            select(MediaIdentifier.id).where(
                MediaIdentifier.library_id == r["library_id"],
                MediaIdentifier.kind == r["kind"],
                MediaIdentifier.value == r["value"],
            )
        )
        if claimed is None:
            db.session.add(
                MediaIdentifier(
                    library_id=r["library_id"], kind=r["kind"], value=r["value"], media_id=item_id
                )
            )
    db.session.flush()


def _restore_item(scope: Scope, kept: Media, entry: dict[str, Any]) -> int:
    values = _restore_row(scope, kept, entry["row"])
    item_id = values["id"]
    db.session.execute(insert(_table(Media)).values(**values))
    for genre in entry["genres"]:
        db.session.add(MediaGenre(media_id=item_id, genre_id=_name_id(Genre, genre)))
    for person in entry["people"]:
        db.session.add(
            MediaPerson(
                media_id=item_id,
                person_id=_name_id(Person, person),
                role=person["role"],
                billing_order=person["billing_order"],
            )
        )
    db.session.flush()
    _move_back(MediaVariant, entry["variants"], kept.id, item_id)
    _move_back(MediaSeason, entry["seasons"], kept.id, item_id)
    _move_back(MediaMetadata, entry["metadata"], kept.id, item_id)
    _restore_identifiers(kept, entry.get("identifiers", []), item_id)
    _insert(MediaSeason, entry["dropped_seasons"], item_id)
    _insert(MediaMetadata, entry["dropped_metadata"], item_id)
    if entry["episodes"]:
        db.session.execute(
            update(Media)
            .where(Media.id.in_(entry["episodes"]), Media.series_id == kept.id)
            .values(series_id=item_id, updated_at=Media.updated_at)
        )
    return item_id


def _advance_sequences() -> None:
    """PostgreSQL: rows were inserted with explicit ids, which do not move the id sequences;
    make sure each sequence is past the highest id so new rows never collide."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Media, MediaVariant, MediaSeason, MediaMetadata):
        table = _table(model)
        highest = db.session.scalar(select(func.max(table.c.id)))
        sequence = func.pg_get_serial_sequence(table.name, "id")
        last = db.session.scalar(select(func.pg_sequence_last_value(cast(sequence, REGCLASS))))
        if highest is not None and highest > (last or 0):
            db.session.execute(select(func.setval(sequence, highest)))


def undo_merge(scope: Scope, merge_id: int, info: RequestInfo) -> tuple[MediaMerge, list[int]]:
    """Recreate the merged items (same ids) and move back what the merge moved."""
    record = _lock_merge(scope, merge_id)
    if not _may_undo(scope, record):
        raise Forbidden("Only whoever merged these items (or a space admin) can undo the merge.")
    if record.undone_at is not None:
        raise Conflict("This merge has already been undone.")
    kept = _lock_items(scope, [record.kept_id])[record.kept_id]
    entries = record.snapshot["items"]
    _check_ids_free(entries)
    restored = [_restore_item(scope, kept, entry) for entry in entries]
    _advance_sequences()
    record.undone_at, record.undone_by = utcnow(), scope.user_id
    activity.record(
        "media.merge.undo", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=kept.id, info=info,
        details={"merge_id": record.id, "kept_id": kept.id, "restored_ids": restored,
                 "titles": [e["row"]["title"] for e in entries]},
    )  # fmt: skip
    db.session.commit()
    return record, restored


def get_merge(scope: Scope, merge_id: int) -> MediaMerge:
    record = db.session.scalar(
        select(MediaMerge).where(MediaMerge.id == merge_id, MediaMerge.space_id == scope.space_id)
    )
    if record is None:
        raise NotFound("Merge not found.")
    return record


def merge_out(record: MediaMerge, scope: Scope) -> dict[str, Any]:
    return {
        "id": record.id,
        "space_id": record.space_id,
        "kept_id": record.kept_id,
        "merged_ids": record.merged_ids,
        "titles": [e["row"]["title"] for e in record.snapshot.get("items", [])],
        "actor_id": record.actor_id,
        "created_at": iso(record.created_at),
        "undone_at": iso(record.undone_at),
        "undone_by": record.undone_by,
        "can_undo": record.undone_at is None and _may_undo(scope, record),
    }
