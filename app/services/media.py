"""The catalog: create, read, change and delete items inside a scope, and browse them with
filters, sorts and two kinds of paging (page numbers, and opaque keyset cursors that stay
stable while items are added)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import iso
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
from app.models.tenancy import Library
from app.services import activity, catalog_revision, tenancy
from app.services.context import RequestInfo
from app.services.covers import cover_urls
from app.services.tenancy import Scope

_ARTICLE = re.compile(r"^(the|an|a)\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
SCALAR_FIELDS = (
    "title", "original_title", "media_type", "format", "year", "release_date", "runtime",
    "overview", "rating", "user_rating", "tmdb_id", "tmdb_media_type", "imdb_id", "upc",
    "cover_key", "cover_url", "backdrop_url", "trailer_url", "network", "series_id",
    "season_number", "episode_number", "episode_title", "location", "notes",
)  # fmt: skip
TV_FIELDS = ("network", "series_id", "season_number", "episode_number", "episode_title")
SORT_COLUMNS = {
    "title": Media.sort_title,
    "year": Media.year,
    "format": Media.format,
    "created_at": Media.created_at,
    "user_rating": Media.user_rating,
    "rating": Media.rating,
}


def sort_title(title: str) -> str:
    """The title as it sorts: no leading A/An/The, case-folded, single spaces."""
    text = _SPACES.sub(" ", title.strip())
    return _ARTICLE.sub("", text).casefold()[:500] or text.casefold()[:500]


def season_complete(expected: int | None, available: int | None) -> bool:
    """A season is complete when every expected episode is owned."""
    return bool(expected and available is not None and available >= expected)


def name_key(name: str) -> str:
    return _SPACES.sub(" ", name.strip()).casefold()


# --- names (genres, people) --------------------------------------------------------------------


def _genre_ids(names: list[str]) -> list[int]:
    ids: list[int] = []
    for name in dict.fromkeys(n for n in names if n.strip()):
        key = name_key(name)
        genre = db.session.scalar(select(Genre).where(Genre.name_key == key))
        if genre is None:
            genre = Genre(name=name.strip(), name_key=key)
            db.session.add(genre)
            db.session.flush()
        if genre.id not in ids:
            ids.append(genre.id)
    return ids


def _person_id(name: str) -> int:
    key = name_key(name)
    person = db.session.scalar(select(Person).where(Person.name_key == key))
    if person is None:
        person = Person(name=_SPACES.sub(" ", name.strip()), name_key=key)
        db.session.add(person)
        db.session.flush()
    return person.id


def _set_genres(item: Media, names: list[str]) -> None:
    db.session.execute(delete(MediaGenre).where(MediaGenre.media_id == item.id))
    for genre_id in _genre_ids(names):
        db.session.add(MediaGenre(media_id=item.id, genre_id=genre_id))


def _set_people(item: Media, role: str, names: list[str]) -> None:
    db.session.execute(
        delete(MediaPerson).where(MediaPerson.media_id == item.id, MediaPerson.role == role)
    )
    seen: set[int] = set()
    for order, name in enumerate(n for n in names if n.strip()):
        person_id = _person_id(name)
        if person_id not in seen:
            seen.add(person_id)
            db.session.add(
                MediaPerson(media_id=item.id, person_id=person_id, role=role, billing_order=order)
            )
    db.session.flush()


def _names_statement(dialect: str):
    """Genres and people of many items in one statement, built once per dialect. Names come
    from scalar subqueries (index lookups per row): a join let PostgreSQL hash the whole
    `people` table. On PostgreSQL the ids travel as one
    array parameter (`= ANY(:ids)`): a short, prepared statement instead of 100 expanded binds."""
    if dialect == "postgresql":
        ids = bindparam("ids", type_=ARRAY(Integer))
        genre_match, person_match = (
            MediaGenre.media_id == any_(ids),
            MediaPerson.media_id == any_(ids),
        )
    else:
        ids = bindparam("ids", expanding=True)
        genre_match, person_match = MediaGenre.media_id.in_(ids), MediaPerson.media_id.in_(ids)
    genre_name = select(Genre.name).where(Genre.id == MediaGenre.genre_id).scalar_subquery()
    person_name = select(Person.name).where(Person.id == MediaPerson.person_id).scalar_subquery()
    genres = select(
        MediaGenre.media_id.label("media_id"),
        literal("genres").label("kind"),
        literal(0).label("ord"),
        genre_name.label("name"),
    ).where(genre_match)
    people = select(
        MediaPerson.media_id, MediaPerson.role, MediaPerson.billing_order, person_name
    ).where(person_match)
    both = union_all(genres, people).subquery()
    return select(both).order_by(both.c.media_id, both.c.kind, both.c.ord, both.c.name)


_NAMES: dict[str, Any] = {}
_KIND = {"genres": "genres", "director": "directors", "cast": "cast"}


def _names_for(media_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    result: dict[int, dict[str, list[str]]] = {
        i: {"genres": [], "directors": [], "cast": []} for i in media_ids
    }
    if not media_ids:
        return result
    dialect = db.session.get_bind().dialect.name
    statement = _NAMES.get(dialect)
    if statement is None:
        statement = _NAMES[dialect] = _names_statement(dialect)
    for media_id, kind, _order, name in db.session.execute(statement, {"ids": list(media_ids)}):
        result[media_id][_KIND[kind]].append(name)
    return result


# --- output ------------------------------------------------------------------------------------


def item_out(item: Media, names: dict[str, list[str]]) -> dict[str, Any]:
    return row_out({c.key: getattr(item, c.key) for c in Media.__table__.c}, names)


_OUT_COLUMNS = (
    "library_id", "space_id", "import_source", "source_provider", "source_external_id",
    "added_by",
)  # fmt: skip


def row_out(row, names: dict[str, list[str]]) -> dict[str, Any]:
    """An item as the API shows it, from its row (a mapping of column values)."""
    out: dict[str, Any] = {"id": row["id"]}
    for field in SCALAR_FIELDS:
        value = row[field]
        out[field] = value.isoformat() if isinstance(value, date) else value
    out.update(names)
    out["cover_url"], out["thumb_url"] = cover_urls(row["cover_key"], row["cover_url"])
    for column in _OUT_COLUMNS:
        out[column] = row[column]
    out["created_at"] = iso(row["created_at"])
    out["updated_at"] = iso(row["updated_at"])
    return out


def detail_out(item: Media) -> dict[str, Any]:
    out = item_out(item, _names_for([item.id])[item.id])
    out["variants"] = [
        {
            "id": v.id,
            "edition": v.edition,
            "format": v.format,
            "resolution": v.resolution,
            "width": v.width,
            "height": v.height,
            "container": v.container,
            "video_codec": v.video_codec,
            "audio_codec": v.audio_codec,
            "source_provider": v.source_provider,
            "source_key": v.source_key,
        }
        for v in db.session.scalars(
            select(MediaVariant).where(MediaVariant.media_id == item.id).order_by(MediaVariant.id)
        )
    ]
    adder = db.session.get(BoxsetUser, item.added_by) if item.added_by else None
    out["added_by_name"] = adder.name if adder else None
    out["seasons"] = [season_out(s) for s in _seasons(item.id)]
    out["metadata"] = {
        m.key: m.value
        for m in db.session.scalars(select(MediaMetadata).where(MediaMetadata.media_id == item.id))
    }
    return out


def season_out(season: MediaSeason) -> dict[str, Any]:
    return {
        "season_number": season.season_number,
        "expected_episodes": season.expected_episodes,
        "available_episodes": season.available_episodes,
        "is_complete": season.is_complete,
    }


def _seasons(media_id: int) -> list[MediaSeason]:
    return list(
        db.session.scalars(
            select(MediaSeason)
            .where(MediaSeason.media_id == media_id)
            .order_by(MediaSeason.season_number)
        )
    )


# --- writes ------------------------------------------------------------------------------------


def writable_library_id(scope: Scope, library_id: int | None) -> int:
    chosen = library_id if library_id is not None else scope.library_id
    if chosen is None:
        raise Invalid({"library_id": ["Choose a library (this space has none yet)."]})
    library = db.session.get(Library, chosen)
    if library is None or library.space_id != scope.space_id:
        raise NotFound("Library not found.")
    if library.archived_at is not None:
        raise Invalid({"library_id": ["That library is archived."]})
    return library.id


def _check_series(scope: Scope, series_id: int | None) -> None:
    if series_id is None:
        return
    series = db.session.get(Media, series_id)
    if series is None or series.space_id != scope.space_id or series.media_type != "tv_series":
        raise Invalid({"series_id": ["Not a TV series in this space."]})


def _apply(item: Media, data: dict[str, Any]) -> None:
    for field in SCALAR_FIELDS:
        if field in data:
            setattr(item, field, data[field])
    if "title" in data:
        item.sort_title = sort_title(data["title"])


def create_media(
    scope: Scope, data: dict[str, Any], info: RequestInfo, *, import_source: str | None = None
) -> Media:
    scope.require("member", "add items")
    library_id = writable_library_id(scope, data.get("library_id"))
    _check_series(scope, data.get("series_id"))
    item = Media(
        space_id=scope.space_id,
        library_id=library_id,
        added_by=scope.user_id,
        import_source=import_source,
    )
    _apply(item, data)
    db.session.add(item)
    db.session.flush()
    _set_genres(item, data.get("genres") or [])
    _set_people(item, "director", data.get("directors") or [])
    _set_people(item, "cast", data.get("cast") or [])
    activity.record(
        "media.create", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=item.id, details={"title": item.title, "library_id": library_id},
        info=info,
    )  # fmt: skip
    db.session.commit()
    return item


def _visible(scope: Scope, media_id: int) -> Media:
    item = db.session.scalar(
        select(Media).where(Media.id == media_id, Media.space_id == scope.space_id)
    )
    if item is None:
        raise NotFound("Item not found.")
    return item


def may_edit(scope: Scope, item) -> bool:
    """The ownership rule: space admins may change any item, members what they added
    (`item`: an item or a row with `added_by`)."""
    return scope.at_least("admin") or (scope.at_least("member") and item.added_by == scope.user_id)


def require_editable(scope: Scope, item, verb: str) -> None:
    scope.require("member", f"{verb} items")
    if not may_edit(scope, item):
        raise Forbidden(f"Only whoever added this item (or a space admin) can {verb} it.")


def _editable(scope: Scope, media_id: int, verb: str) -> Media:
    """The item, when the caller may change it: members only what they added."""
    scope.require("member", f"{verb} items")
    item = _visible(scope, media_id)
    require_editable(scope, item, verb)
    return item


def scope_for_item(user, media_id: int) -> Scope:
    """The scope of the space an item lives in, if the caller belongs to it (else 404)."""
    space_id = db.session.scalar(select(Media.space_id).where(Media.id == media_id))
    return tenancy.scope_of_row(user, space_id, "Item not found.")


def get_media(scope: Scope, media_id: int) -> Media:
    return _visible(scope, media_id)


def update_media(scope: Scope, media_id: int, changes: dict[str, Any], info: RequestInfo) -> Media:
    item = _editable(scope, media_id, "change")
    merged = {f: getattr(item, f) for f in ("media_type", *TV_FIELDS)}
    merged.update({k: v for k, v in changes.items() if k in merged})
    if merged["media_type"] not in TV_TYPES:
        present = [f for f in TV_FIELDS if merged.get(f) is not None and f in changes]
        lingering = [f for f in TV_FIELDS if merged.get(f) is not None and f not in changes]
        if present:
            raise Invalid({f: ["Only TV series and episodes have this field."] for f in present})
        if lingering and "media_type" in changes:
            raise Invalid(
                {"media_type": [f"Clear {', '.join(lingering)} before changing the type."]}
            )
    if "library_id" in changes:
        target = writable_library_id(scope, changes["library_id"])
        if target != item.library_id:
            move_identities([item.id], target)
            item.library_id = target
    if "series_id" in changes:
        _check_series(scope, changes["series_id"])
        if changes["series_id"] == item.id:
            raise Invalid({"series_id": ["An item cannot be its own series."]})
    _apply(item, changes)
    if "genres" in changes:
        _set_genres(item, changes["genres"] or [])
    if "directors" in changes:
        _set_people(item, "director", changes["directors"] or [])
    if "cast" in changes:
        _set_people(item, "cast", changes["cast"] or [])
    if item.media_type != "tv_series":
        db.session.execute(delete(MediaSeason).where(MediaSeason.media_id == item.id))
    activity.record(
        "media.update", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=item.id, details={"title": item.title, "fields": sorted(changes)}, info=info,
    )  # fmt: skip
    db.session.commit()
    return item


def delete_media(scope: Scope, media_id: int, info: RequestInfo) -> None:
    item = _editable(scope, media_id, "delete")
    activity.record(
        "media.delete", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=item.id, details={"title": item.title, "library_id": item.library_id},
        info=info,
    )  # fmt: skip
    db.session.delete(item)
    db.session.commit()


def set_seasons(
    scope: Scope, media_id: int, seasons: list[dict[str, Any]], info: RequestInfo
) -> list[MediaSeason]:
    item = _editable(scope, media_id, "change")
    if item.media_type != "tv_series":
        raise Invalid({"seasons": ["Only TV series have seasons."]})
    db.session.execute(delete(MediaSeason).where(MediaSeason.media_id == item.id))
    for season in seasons:
        expected, available = season.get("expected_episodes"), season.get("available_episodes")
        db.session.add(
            MediaSeason(
                media_id=item.id,
                season_number=season["season_number"],
                expected_episodes=expected,
                available_episodes=available,
                is_complete=season_complete(expected, available),
            )
        )
    activity.record(
        "media.update", actor=scope.user, space_id=scope.space_id, entity_type="media",
        entity_id=item.id, details={"title": item.title, "fields": ["seasons"]}, info=info,
    )  # fmt: skip
    db.session.commit()
    return _seasons(item.id)


def move_identities(media_ids, library_id: int) -> None:
    """Import identities (app/models/imports.py) follow their items into another library, so
    that importing there again finds them and importing into the old library creates its own
    item. An identity the target library already gives to another item stays with that one."""
    taken = aliased(MediaIdentifier)
    moving = (MediaIdentifier.media_id.in_(media_ids), MediaIdentifier.library_id != library_id)
    db.session.execute(
        update(MediaIdentifier)
        .where(
            *moving,
            ~exists().where(
                taken.library_id == library_id,
                taken.kind == MediaIdentifier.kind,
                taken.value == MediaIdentifier.value,
            ),
        )
        .values(library_id=library_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(MediaIdentifier).where(*moving).execution_options(synchronize_session=False)
    )


def relocate_library_media(library: Library, target: Library | None) -> int:
    """Library deletion: move the library's items to `target`, or delete them."""
    count = (
        db.session.scalar(
            select(func.count()).select_from(Media).where(Media.library_id == library.id)
        )
        or 0
    )
    if target is None:
        db.session.execute(delete(Media).where(Media.library_id == library.id))
    else:
        move_identities(select(Media.id).where(Media.library_id == library.id), target.id)
        db.session.execute(
            update(Media).where(Media.library_id == library.id).values(library_id=target.id)
        )
    return count


tenancy.LIBRARY_CONTENT_HANDLERS.append(relocate_library_media)


# --- browsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    count: int
    page: int
    limit: int
    next_cursor: str | None
    has_more: bool

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.count / self.limit)) if self.limit else 1


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _with_person(text: str, roles: tuple[str, ...]) -> ColumnElement[bool]:
    """Items with a person whose name contains `text`. People are found first (trigram index
    on PostgreSQL), then their items (index on person and role): no per-item subquery."""
    people = select(Person.id).where(Person.name_key.like(_like(text), escape="\\"))
    return Media.id.in_(
        select(MediaPerson.media_id).where(
            MediaPerson.person_id.in_(people), MediaPerson.role.in_(roles)
        )
    )


def _filters(scope: Scope, args: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Media.space_id == scope.space_id]
    if args.get("library_id") != "all" and scope.library_id is not None:
        conditions.append(Media.library_id == scope.library_id)
    elif args.get("library_id") != "all":
        conditions.append(false())  # a space without libraries has nothing to list
    media_type = args.get("media_type")
    if media_type == "tv":
        conditions.append(Media.media_type.in_(TV_TYPES))
    elif media_type:
        conditions.append(Media.media_type == media_type)
    if args.get("format"):
        conditions.append(Media.format == args["format"])
    if args.get("year") is not None:
        conditions.append(Media.year == args["year"])
    for key, column, op in (
        ("year_min", Media.year, "ge"), ("year_max", Media.year, "le"),
        ("rating_min", Media.rating, "ge"), ("rating_max", Media.rating, "le"),
        ("user_rating_min", Media.user_rating, "ge"), ("user_rating_max", Media.user_rating, "le"),
    ):  # fmt: skip
        if args.get(key) is not None:
            conditions.append(column >= args[key] if op == "ge" else column <= args[key])
    if args.get("genre"):
        genres = select(Genre.id).where(Genre.name_key.like(_like(args["genre"]), escape="\\"))
        conditions.append(
            Media.id.in_(select(MediaGenre.media_id).where(MediaGenre.genre_id.in_(genres)))
        )
    if args.get("director"):
        conditions.append(_with_person(args["director"], ("director",)))
    if args.get("actor"):
        conditions.append(_with_person(args["actor"], ("cast",)))
    if args.get("resolution"):
        conditions.append(
            exists(
                select(MediaVariant.id).where(
                    MediaVariant.media_id == Media.id,
                    MediaVariant.resolution == args["resolution"],
                )
            )
        )
    if args.get("search"):
        text = args["search"]
        conditions.append(
            or_(
                Media.sort_title.like(_like(sort_title(text)), escape="\\"),
                _with_person(text, ("director", "cast")),
            )
        )
    return conditions


def _encode_cursor(sort_by: str, sort_dir: str, value: Any, item_id: int) -> str:
    if isinstance(value, datetime):
        value = {"t": iso(value)}
    payload = json.dumps({"s": sort_by, "d": sort_dir, "v": value, "i": item_id})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort_by: str, sort_dir: str) -> tuple[Any, int]:
    invalid = Invalid({"cursor": ["Not a cursor from this listing; start again without it."]})
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("s") != sort_by or payload.get("d") != sort_dir:
        raise invalid
    item_id, value = payload.get("i"), payload.get("v")
    if not isinstance(item_id, int) or isinstance(item_id, bool) or not 0 < item_id < 2**31:
        raise invalid
    if sort_by == "created_at":
        if not isinstance(value, dict) or not isinstance(value.get("t"), str):
            raise invalid
        try:
            value = datetime.fromisoformat(value["t"].replace("Z", "+00:00"))
        except ValueError:
            raise invalid from None
    elif sort_by in ("year",):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise invalid
    elif sort_by in ("rating", "user_rating"):
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise invalid
    elif value is not None and not isinstance(value, str):
        raise invalid
    return value, item_id


def _after(column, sort_dir: str, value: Any, item_id: int) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in the order: value asc/desc with NULLs last, then id."""
    later_id = Media.id > item_id if sort_dir == "asc" else Media.id < item_id
    if not column.nullable:  # a row comparison is an index range (no NULL group)
        # The cursor's value is bound as the column's type (a UTC timestamp stays one).
        pair = tuple_(column, Media.id)
        after = tuple_(literal(value, column.type), literal(item_id, Integer))
        return pair > after if sort_dir == "asc" else pair < after
    if value is None:  # inside the NULL group at the end: only the id decides
        return and_(column.is_(None), later_id)
    beyond = column > value if sort_dir == "asc" else column < value
    return or_(beyond, and_(column == value, later_id), column.is_(None))


_NOT_FILTERS = frozenset(
    {"page", "limit", "cursor", "sort_by", "sort_dir", "space_id", "library_id"}
)


def _count_key(scope: Scope, args: dict[str, Any]) -> tuple:
    """What decides a listing's matches: where it looks and every filter (not paging/order)."""
    where = "all" if args.get("library_id") == "all" else scope.library_id
    filters = tuple(sorted((k, v) for k, v in args.items() if k not in _NOT_FILTERS))
    return ("media", scope.space_id, where, filters)


def list_media(scope: Scope, args: dict[str, Any]) -> Page:
    sort_by, sort_dir = args.get("sort_by", "title"), args.get("sort_dir", "asc")
    limit, page = args.get("limit", 50), args.get("page", 1)
    column = SORT_COLUMNS[sort_by]
    conditions = _filters(scope, args)
    ordering = column.asc() if sort_dir == "asc" else column.desc()
    if column.nullable:  # items without a value come last both ways (a NOT NULL column has
        ordering = ordering.nulls_last()  # none: saying so would keep its index from ordering)
    id_order = Media.id.asc() if sort_dir == "asc" else Media.id.desc()
    query = select(Media).where(*conditions).order_by(ordering, id_order)
    cursor = args.get("cursor")
    if cursor:
        value, item_id = _decode_cursor(cursor, sort_by, sort_dir)
        query = query.where(_after(column, sort_dir, value, item_id))
        query = query.with_only_columns(*Media.__table__.c)  # rows, not ORM objects
        rows = list(db.session.execute(query.limit(limit + 1)))
    else:
        # Deep pages: skip rows in the index only (no table reads), then fetch the page.
        page_ids = (
            select(Media.id)
            .where(*conditions)
            .order_by(ordering, id_order)
            .offset((page - 1) * limit)
            .limit(limit + 1)
        )
        # One statement: the page's ids (index only), joined back to their rows.
        page_sq = page_ids.subquery()
        rows = list(
            db.session.execute(
                select(*Media.__table__.c)
                .join_from(Media, page_sq, page_sq.c.id == Media.id)
                .order_by(ordering, id_order)
            )
        )
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not cursor and not has_more and (rows or page == 1):
        count = (page - 1) * limit + len(rows)  # the last page says how many there are
    else:
        count = catalog_revision.count(
            _count_key(scope, args),
            lambda: (
                db.session.scalar(select(func.count()).select_from(Media).where(*conditions)) or 0
            ),
        )
    names = _names_for([r.id for r in rows])
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode_cursor(sort_by, sort_dir, getattr(last, column.key), last.id)
    return Page(
        items=[row_out(r._mapping, names[r.id]) for r in rows],
        count=count,
        page=page if not cursor else 0,
        limit=limit,
        next_cursor=next_cursor,
        has_more=has_more,
    )
