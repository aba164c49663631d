"""Imports as jobs: queue one, run it (inline or on a worker), dedupe every row, report.

A source (CSV, Delicious Library, Plex) is a reader that yields `ImportRow`s; this module does the
rest the same way for all of them:

- **Dedupe, identifier first**: a row matches an item of the target library by UPC/EAN, then IMDb
  id, then TMDB id (with its type), then its source key (Plex guid, Delicious uuid), then
  normalised title + year + type. Each imported item's identities are claimed in
  `media_identifiers` under `UNIQUE(library_id, kind, value)`, so two imports of one file at
  the same time create each item once: the loser's insert fails, its row's savepoint rolls back
  and the row is matched again, now finding the winner's item.
- **Nothing half-written**: rows are applied in batches; a batch commits its items, its row
  results and the job's progress together. A worker that dies loses at most the batch in flight,
  and running the job again resumes after the last committed row.
- **One bad row never stops the rest**: each row runs in a savepoint; a failure becomes that
  row's `failed` result with the reason.
- **One worker per run**: a worker claims a job with one conditional UPDATE (queued → running);
  a second worker, or a retry racing the first, finds it claimed and does nothing. A running
  job's heartbeat is refreshed every few seconds, also within a slow batch, so the stall check
  (`fail_stalled_jobs`) only fails jobs whose worker has really stopped.
- **Every write to the job is conditional**: the stall check fails a job only if its heartbeat
  is still old when it writes (a heartbeat written after its look-up wins), and a worker's
  heartbeats, batch commits and final status apply only while the job is still `running` with
  the attempt number it claimed. A worker that finds otherwise (the stall check failed the job,
  or it was queued again and another worker claimed it) stops without writing anything more:
  its committed batches stay, and whoever runs the job next resumes after them.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import delete, func, literal, or_, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import AppError, Forbidden, Invalid, NotFound, PayloadTooLarge
from app.extensions import db
from app.models.accounts import BoxsetUser
from app.models.base import UTCDateTime, iso, utcnow
from app.models.imports import SyncJob, SyncJobInput, SyncJobRow
from app.models.media import (
    TV_TYPES,
    Media,
)
from app.models.tenancy import SpaceMembership
from app.services import activity, flags, tenancy
from app.services.context import RequestInfo
from app.services.media import (
    sort_title,
    writable_library_id,
)
from app.services.tenancy import Scope

log = logging.getLogger("boxset.imports")

BATCH_SIZE = 500
INLINE_MAX_ROWS = 500  # larger imports always run as background jobs
HEARTBEAT_SECONDS = 30.0  # a running job reports at least this often (see _heartbeat_every)
REPORT_COLUMNS = (
    "row", "source_key", "title", "status", "media_id", "matched_by", "detail",
    "enrichment", "enrichment_detail",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class JobLost(Exception):
    """The running worker no longer owns its job: the stall check failed it, or it was queued
    again and claimed by another worker (a later attempt), or it was deleted. The run stops;
    its uncommitted batch is rolled back, what it committed stays."""


class ImportRejected(AppError):
    """The input cannot be imported at all (wrong encoding, no title column, hostile XML)."""

    status = 400
    code = "validation_failed"


@dataclass
class ImportRow:
    """One record of a source, already mapped to item fields (or to why it cannot be)."""

    row: int
    title: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source_key: str | None = None
    source_kind: str | None = None  # identifier kind: "plex" | "delicious"
    identity: str | None = None  # the source's identity of the work (default: source_key)
    metadata: dict[str, str] = field(default_factory=dict)
    seasons: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the row is reported failed with this reason
    skip: str | None = None  # the row is reported skipped with this reason
    note: str | None = None  # extra detail for the report (e.g. "boxed set")
    enrichment: str = "not_attempted"  # enriched | no_match | failed | not_attempted
    enrichment_detail: str | None = None


@dataclass
class RowResult:
    status: str
    media_id: int | None = None
    matched_by: str | None = None
    detail: str | None = None


Reader = Callable[[SyncJob, bytes | None], Iterator[ImportRow]]


def _reader_for(provider: str) -> Reader | None:
    from app.services.importers import READERS

    return READERS.get(provider)


def validated_row(number: int, raw: dict[str, Any], **extra: Any) -> ImportRow:
    """A row whose fields went through the API's item schema (a failure is the row's error)."""
    title = str(raw.get("title") or "") or None
    try:
        fields = _schema().load(raw)
    except ValidationError as exc:
        return ImportRow(row=number, title=title, error=_messages(exc.messages), **extra)
    return ImportRow(row=number, title=fields["title"], fields=fields, **extra)


@functools.cache
def _schema():
    from app.schemas.media import MediaPostSchema

    return MediaPostSchema()


def _messages(errors: dict[str, Any]) -> str:
    parts = []
    for name, messages in errors.items():
        text = " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


# --- starting jobs -------------------------------------------------------------------------------


def check_upload(data: bytes, *, max_bytes: int) -> None:
    """Refuse what no reader could use, before anything is stored."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than {max_bytes // 2**20} MB.")
    if not data.strip():
        raise ImportRejected({"file": ["The file is empty."]})
    if b"\x00" in data:  # anywhere: the database refuses NUL in text, so no row could hold it
        raise ImportRejected({"file": ["This is a binary file, not a text export."]})


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused with a clear reason."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            {
                "file": [
                    f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). "
                    "Save it as CSV UTF-8 and try again."
                ]
            }
        ) from None


def start_job(
    scope: Scope,
    provider: str,
    *,
    data: bytes | None,
    file_name: str | None,
    options: dict[str, Any] | None,
    library_id: int | None,
    info: RequestInfo,
) -> int:
    """Queue an import into a library of the scope's space; its input is kept with the job.
    Returns the job's id (read before the commit, so nothing is reloaded afterwards)."""
    target = writable_library_id(scope, library_id)
    job = SyncJob(
        space_id=scope.space_id,
        library_id=target,
        created_by=scope.user_id,
        provider=provider,
        status="queued",
        options=options or {},
        file_name=(file_name or "")[:255] or None,
    )
    db.session.add(job)
    db.session.flush()
    if data is not None:
        db.session.add(SyncJobInput(job_id=job.id, data=data))
    activity.record(
        "import.started", actor=scope.user, space_id=scope.space_id, entity_type="sync_job",
        entity_id=job.id, details={"provider": provider, "file_name": job.file_name,
                                   "library_id": target}, info=info,
    )  # fmt: skip
    job_id = job.id
    db.session.commit()
    return job_id


# --- running jobs --------------------------------------------------------------------------------


class _Context:
    """What one run keeps between rows: caches of genre and person ids, when to beat next."""

    def __init__(self, job: SyncJob, done: int, attempt: int) -> None:
        self.job = job
        self.job_id = job.id
        self.attempt = attempt  # the job's `attempts` as this worker claimed it
        self.done = done  # rows recorded so far
        self.genres: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self.dialect = db.engine.dialect.name
        self.next_analyze = 600
        self.beat_every = _heartbeat_every()
        self.next_beat = time.monotonic() + self.beat_every


def claim_job(job_id: int) -> bool:
    """Take a queued job for this worker: one conditional UPDATE, so of two workers (or a
    retry racing the first run) exactly one gets it. False: it is not queued (any more)."""
    return _claim_attempt(job_id) is not None


def _claim_attempt(job_id: int) -> int | None:
    """`claim_job`, returning the attempt number claimed (the job's new `attempts`): the
    worker's later writes to the job apply only while it is still that attempt."""
    now = utcnow()
    attempt = db.session.execute(
        update(SyncJob)
        .where(SyncJob.id == job_id, SyncJob.status == "queued")
        .values(
            status="running",
            error=None,
            finished_at=None,
            heartbeat_at=now,
            started_at=func.coalesce(SyncJob.started_at, literal(now, UTCDateTime())),
            attempts=SyncJob.attempts + 1,
        )
        .returning(SyncJob.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    return attempt


def _owned(job_id: int, attempt: int) -> tuple:
    """The job is still this worker's: running, and not claimed again since."""
    return (SyncJob.id == job_id, SyncJob.status == "running", SyncJob.attempts == attempt)


def _update_owned(ctx: _Context, connection=None, **values: Any) -> None:
    """Write to the job only if this worker still owns it; else raise `JobLost`."""
    statement = (
        update(SyncJob)
        .where(*_owned(ctx.job_id, ctx.attempt))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    written = (db.session if connection is None else connection).execute(statement).rowcount
    if written != 1:
        raise JobLost(
            f"import job {ctx.job_id} is no longer running as attempt {ctx.attempt} "
            "(failed by the stall check, or claimed again)"
        )


def run_job(job_id: int) -> SyncJob | None:
    """Run (or resume) a queued job to its end; a job that is not queued is left alone (another
    worker has it, or it finished). Safe to queue again after a crash: rows already committed
    are not read again, and dedupe finds what they created.

    A worker that loses the job on the way (see `JobLost`) stops at its next write to it and
    leaves the job as the new owner has it."""
    attempt = _claim_attempt(job_id)
    if attempt is None:
        job = db.session.get(SyncJob, job_id)
        if job is not None:
            log.info("import job %s not run: it is %s, not queued", job_id, job.status)
        return job
    job = db.session.get(SyncJob, job_id)
    if job is None:  # deleted (with its space or library) right after the claim
        return None
    owned = _owned(job_id, attempt)
    reader = _reader_for(job.provider)
    input_row = db.session.get(SyncJobInput, job.id)
    done_rows = _committed_rows(job.id)
    ctx = _Context(job, _row_count(job.id), attempt)
    try:
        creator = db.session.get(BoxsetUser, job.created_by) if job.created_by else None
        require_may_run(creator, job)
        if reader is None:
            raise ImportRejected(f"No reader for {job.provider}.")
        batch: list[ImportRow] = []
        enricher = _enricher(job)
        try:
            for row in reader(job, input_row.data if input_row else None):
                _beat(ctx)  # reading and enriching can be slow (a provider's rate limit)
                if row.row <= done_rows:
                    continue
                if enricher is not None:
                    enricher.enrich(row)
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    _apply_batch(ctx, batch)
                    batch = []
            if batch:
                _apply_batch(ctx, batch)
        finally:
            if enricher is not None:
                enricher.close()
    except JobLost as exc:  # someone else has the job now: write nothing more to it
        db.session.rollback()
        log.warning("import job %s: this worker stopped, it lost the job: %s", job_id, exc)
        return db.session.get(SyncJob, job_id)
    except Exception as exc:  # the job fails with a reason; committed batches stay
        db.session.rollback()
        reason = exc.message if isinstance(exc, AppError) else _short(exc)
        if not isinstance(exc, AppError):
            log.exception("import job %s failed", job_id)
        error = reason if isinstance(reason, str) else str(reason)
        if not _finish(job_id, "failed", error=error, where=owned):
            log.warning("import job %s: not marked failed, this worker lost the job", job_id)
        return db.session.get(SyncJob, job_id)
    if not _finish(job_id, "succeeded", where=owned):
        log.warning("import job %s: not marked succeeded, this worker lost the job", job_id)
    return db.session.get(SyncJob, job_id)


def _heartbeat_every() -> float:
    """Seconds between heartbeats: every 30 s, and at least four times within the time after
    which the stall check gives a job up (IMPORT_STALE_MINUTES)."""
    return min(HEARTBEAT_SECONDS, current_app.config["IMPORT_STALE_MINUTES"] * 60 / 4)


def _beat_due(ctx: _Context) -> bool:
    now = time.monotonic()
    if now < ctx.next_beat:
        return False
    ctx.next_beat = now + ctx.beat_every
    return True


def _beat(ctx: _Context) -> None:
    """Between batches (reading, enriching rows): refresh the heartbeat when due. Nothing of
    the next batch is in the session yet, so this commit writes the heartbeat alone. Raises
    `JobLost` when the job is no longer this worker's."""
    if _beat_due(ctx):
        try:
            _update_owned(ctx, heartbeat_at=utcnow())
        except JobLost:
            db.session.rollback()
            raise
        db.session.commit()


def _beat_in_batch(ctx: _Context) -> None:
    """Within a batch's transaction (rows applied one by one): the heartbeat must be seen
    before the batch commits, so it is written on a connection of its own. PostgreSQL only:
    SQLite has one writer, and the stall check, which writes, waits for this batch anyway.
    Raises `JobLost` when the job is no longer this worker's (the batch is then rolled back)."""
    if ctx.dialect != "postgresql" or not _beat_due(ctx):
        return
    try:
        with db.session.get_bind().engine.connect() as connection:
            # The batch holds no lock on the job's row; should that change, give up, not hang.
            connection.execute(text("SET LOCAL lock_timeout = '2s'"))
            _update_owned(ctx, connection, heartbeat_at=utcnow())
            connection.commit()
    except OperationalError as exc:
        log.warning("import job %s: heartbeat not written: %s", ctx.job_id, _short(exc))


def _enricher(job: SyncJob):
    """TMDB enrichment, when the job asked for it."""
    if not (job.options or {}).get("enrich"):
        return None
    from app.services.enrichment import Enricher

    return Enricher(job.space_id)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:300]


def _row_count(job_id: int) -> int:
    return db.session.scalar(select(func.count()).where(SyncJobRow.job_id == job_id)) or 0


def _committed_rows(job_id: int) -> int:
    return (
        db.session.scalar(select(func.max(SyncJobRow.row)).where(SyncJobRow.job_id == job_id)) or 0
    )


def _apply_batch(ctx: _Context, batch: list[ImportRow]) -> None:
    """Apply a batch in one transaction; on a deadlock or serialisation failure (two imports
    claiming the same identities in a different order) redo it."""
    for attempt in range(5):
        try:
            results = _apply_rows(ctx, batch)
            for row, result in results:
                db.session.add(
                    SyncJobRow(
                        job_id=ctx.job.id, row=row.row, source_key=row.source_key,
                        title=(row.title or "")[:500] or None, status=result.status,
                        media_id=result.media_id, matched_by=result.matched_by,
                        detail=result.detail, enrichment=row.enrichment,
                        enrichment_detail=row.enrichment_detail,
                    )
                )  # fmt: skip
            # Last, so the job's row is locked only for the commit; no longer this worker's
            # job: JobLost, and the batch is rolled back (the new owner applies these rows).
            _update_owned(ctx, progress_done=ctx.done + len(batch), heartbeat_at=utcnow())
            db.session.commit()
            ctx.next_beat = time.monotonic() + ctx.beat_every
            ctx.done += len(batch)
            _refresh_statistics(ctx)
            return
        except OperationalError:
            db.session.rollback()
            ctx.genres.clear()
            ctx.people.clear()
            if attempt == 4:
                raise
            log.info("import job %s: batch retried after a lock conflict", ctx.job.id)


def _refresh_statistics(ctx: _Context) -> None:
    """PostgreSQL: a big import into a new library outgrows the planner's statistics (it
    thinks the library holds a handful of rows and scans it for every look-up). Re-analyse the
    tables the look-ups read as the import grows: after 600, 1,800, 5,400 … rows."""
    if ctx.dialect != "postgresql" or ctx.done < ctx.next_analyze:
        return
    ctx.next_analyze = ctx.done * 3
    db.session.execute(text("ANALYZE media_identifiers"))
    db.session.execute(text("ANALYZE media"))
    db.session.commit()


def _apply_rows(ctx: _Context, batch: list[ImportRow]) -> list[tuple[ImportRow, RowResult]]:
    """The batch through the fast path; what it leaves (look-alike rows, lost races) and any
    batch it cannot take (a row the database refuses) go row by row, each in a savepoint."""
    from app.services import import_batch

    try:
        with db.session.begin_nested():
            results, later = import_batch.apply(ctx, batch)
    except IntegrityError:
        ctx.genres.clear()
        ctx.people.clear()
        results, later = {}, batch
    for row in later:
        results[row.row] = _apply_row(ctx, row)
        _beat_in_batch(ctx)
    return [(row, results[row.row]) for row in batch]


def _finish(job_id: int, status: str, *, error: str | None = None, where: tuple = ()) -> bool:
    """End a running job (with its summary and activity entry) if it is still running and
    matches `where`; in one conditional UPDATE, so a write made meanwhile by someone else is
    never overwritten. False: it did not match, and nothing was written."""
    now = utcnow()
    finished = db.session.execute(
        update(SyncJob)
        .where(SyncJob.id == job_id, SyncJob.status == "running", *where)
        .values(status=status, error=error, finished_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if finished != 1:
        db.session.rollback()
        return False
    job = db.session.get(SyncJob, job_id, populate_existing=True)
    counts = dict(
        db.session.execute(
            select(SyncJobRow.status, func.count())
            .where(SyncJobRow.job_id == job_id)
            .group_by(SyncJobRow.status)
        ).all()
    )
    summary = {s: int(counts.get(s, 0)) for s in ("created", "updated", "skipped", "failed")}
    summary = {"total": sum(summary.values()), **summary}
    job.summary = summary
    if job.progress_total is None or status == "succeeded":
        job.progress_total = summary["total"]
        job.progress_done = summary["total"]
    if status == "succeeded":
        db.session.execute(delete(SyncJobInput).where(SyncJobInput.job_id == job_id))
    actor = db.session.get(BoxsetUser, job.created_by) if job.created_by else None
    details: dict[str, Any] = {"provider": job.provider, "summary": summary}
    if error:
        details["error"] = error
    activity.record(
        "import.finished" if status == "succeeded" else "import.failed", actor=actor,
        space_id=job.space_id, entity_type="sync_job", entity_id=job.id, details=details,
    )  # fmt: skip
    db.session.commit()
    return True


def fail_stalled_jobs(stale_after: timedelta) -> int:
    """Jobs whose worker stopped reporting are marked failed with the reason; running them
    again resumes where they stopped. Returns how many were failed: a job whose heartbeat came
    after the look-up (its worker is alive after all) is left running, since the failing UPDATE
    is conditional on the heartbeat still being old."""
    cutoff = utcnow() - stale_after
    stalled = list(
        db.session.scalars(
            select(SyncJob.id).where(SyncJob.status == "running", SyncJob.heartbeat_at < cutoff)
        )
    )
    minutes = int(stale_after.total_seconds() // 60) or 1
    error = f"The worker stopped: no progress for {minutes} min. Run it again to resume."
    failed = 0
    for job_id in stalled:
        if _finish(job_id, "failed", error=error, where=(SyncJob.heartbeat_at < cutoff,)):
            failed += 1
            log.warning("import job %s failed: no heartbeat for %s min", job_id, minutes)
        else:
            log.info("import job %s not failed: it reported (or ended) meanwhile", job_id)
    return failed


def set_total(job: SyncJob, total: int) -> None:
    """Readers that know the row count up front report it (for the progress bar)."""
    job.progress_total = total
    db.session.commit()


# --- one row -------------------------------------------------------------------------------------


def identity_keys(row: ImportRow) -> list[tuple[str, str]]:
    """The row's identities, strongest first."""
    f = row.fields
    keys: list[tuple[str, str]] = []
    if f.get("upc"):
        keys.append(("upc", gtin(f["upc"])))
    if f.get("imdb_id"):
        keys.append(("imdb", f["imdb_id"]))
    if f.get("tmdb_id"):
        tmdb_type = f.get("tmdb_media_type") or (
            "tv" if f.get("media_type") in TV_TYPES else "movie"
        )
        keys.append(("tmdb", f"{tmdb_type}:{f['tmdb_id']}"))
    source = row.identity or row.source_key
    if source and row.source_kind:
        # Plex: the guid is the strongest identity (all editions of a work share it).
        keys.insert(0 if row.source_kind == "plex" else len(keys), (row.source_kind, source[:600]))
    keys.append(("title", title_key(f)))
    return keys


def gtin(code: Any) -> str:
    """A UPC-A, EAN-13 or GTIN-14 as 14 digits, so that one product matches however a source
    wrote it (a 12-digit UPC and its 13-digit EAN with a leading 0)."""
    return str(code).zfill(14)


def _upc_spellings(code: Any) -> list[str]:
    bare = str(code).lstrip("0")
    return sorted({str(code), bare, *(bare.zfill(n) for n in (12, 13, 14))})


def title_key(f: dict[str, Any]) -> str:
    year = f.get("year") or ""
    return f"{f.get('media_type') or 'movie'}|{year}|{sort_title(f['title'])}"[:600]


def _conflicts(item: Media, f: dict[str, Any]) -> bool:
    """A title match is no match when both sides carry different identifiers."""
    for column in ("upc", "imdb_id", "tmdb_id"):
        mine, theirs = f.get(column), getattr(item, column)
        if column == "upc" and mine and theirs:
            mine, theirs = gtin(mine), gtin(theirs)
        if mine and theirs and str(mine) != str(theirs):
            return True
    return False


_MATCHED_BY = {
    "upc": "upc", "imdb": "imdb_id", "tmdb": "tmdb_id", "plex": "plex_guid",
    "delicious": "delicious_uuid", "title": "title_year_type",
}  # fmt: skip


def _apply_row(ctx: _Context, row: ImportRow) -> RowResult:
    """A row the batch did not settle (it shares an identity with an earlier row of its batch,
    lost a race to a concurrent import, or its batch was refused) goes through the same path
    as a batch of one, in a savepoint: matched against everything written so far."""
    from app.services import import_batch

    for attempt in range(3):
        try:
            with db.session.begin_nested():
                results, _lost = import_batch.apply(ctx, [row])
            if row.row in results:
                return results[row.row]
            # Lost a race: the concurrent import's item is committed now; match again.
        except IntegrityError as exc:
            ctx.genres.clear()
            ctx.people.clear()
            if attempt == 2:
                return RowResult("failed", detail=f"Could not be saved: {_short(exc.orig or exc)}")
        except AppError as exc:
            return RowResult("failed", detail=str(exc.message))
    return RowResult("failed", detail="Could not be saved.")


# --- reading jobs --------------------------------------------------------------------------------


def _job_query(user: BoxsetUser):
    """Jobs a user may see: their own, every job of a space they administer, all for Admin."""
    query = select(SyncJob)
    if tenancy.is_instance_admin(user):
        return query
    admin_spaces = select(SpaceMembership.space_id).where(
        SpaceMembership.user_id == user.id, SpaceMembership.role.in_(("owner", "admin"))
    )
    member_spaces = select(SpaceMembership.space_id).where(SpaceMembership.user_id == user.id)
    return query.where(
        or_(
            (SyncJob.created_by == user.id) & SyncJob.space_id.in_(member_spaces),
            SyncJob.space_id.in_(admin_spaces),
        )
    )


def get_job(user: BoxsetUser, job_id: int) -> SyncJob:
    job = db.session.scalar(_job_query(user).where(SyncJob.id == job_id))
    if job is None:
        raise NotFound("Job not found.")
    return job


def list_jobs(
    user: BoxsetUser, *, status: str | None, space_id: int | None, limit: int
) -> tuple[int, list[SyncJob]]:
    query = _job_query(user)
    if status:
        query = query.where(SyncJob.status == status)
    if space_id:
        query = query.where(SyncJob.space_id == space_id)
    jobs = list(
        db.session.scalars(
            query.order_by(SyncJob.created_at.desc(), SyncJob.id.desc()).limit(limit)
        )
    )
    if len(jobs) < limit:  # all of them are here: no need to count
        return len(jobs), jobs
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0, jobs


def job_rows(
    job: SyncJob, *, status: str | None = None, offset: int = 0, limit: int | None = None
) -> list[SyncJobRow]:
    query = select(SyncJobRow).where(SyncJobRow.job_id == job.id)
    if status:
        query = query.where(SyncJobRow.status == status)
    query = query.order_by(SyncJobRow.row).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def count_rows(
    job: SyncJob, status: str | None = None, *, offset: int = 0, limit: int = 0, got: int = 0
) -> int:
    """How many rows (of a status) the job has; a page that ends before `limit` (and is not
    past the end) tells it without counting, as job pages are polled while a job runs."""
    if got < limit and (got or not offset):
        return offset + got
    query = select(func.count()).where(SyncJobRow.job_id == job.id)
    if status:
        query = query.where(SyncJobRow.status == status)
    return db.session.scalar(query) or 0


# Who may start (and so re-run) an import of each kind.
START_ROLE = {"csv_generic": "member", "csv_delicious": "member", "plex": "admin"}
PROVIDER_FLAG = {
    "csv_generic": "import_csv_enabled",
    "csv_delicious": "import_csv_enabled",
    "plex": "import_plex_enabled",
}


def require_may_run(user: BoxsetUser | None, job: SyncJob) -> None:
    """Starting, retrying and running an import need the same right, checked each time: the
    role in the space now, the feature flag on, the library not archived. A worker checks
    the job's creator, who may have left, been demoted or deleted since it was queued."""
    if user is None or not user.is_active:
        raise Forbidden("Whoever started this import can no longer run it.")
    flags.require(PROVIDER_FLAG[job.provider])
    scope = tenancy.resolve_scope(user, space_id=job.space_id)
    scope.require(START_ROLE[job.provider], "run this import")
    writable_library_id(scope, job.library_id)


def retry_job(user: BoxsetUser, job_id: int, info: RequestInfo) -> int:
    """Queue a failed job again. The caller must still be allowed to start such an import
    (role now, flag on, library not archived), not merely see the job."""
    job = get_job(user, job_id)
    require_may_run(user, job)
    # Conditional, like the claim: two retries at once queue it once, and a retry never turns
    # a job another worker already claimed back into a queued one.
    requeued = db.session.execute(
        update(SyncJob)
        .where(SyncJob.id == job.id, SyncJob.status == "failed")
        .values(status="queued", error=None, finished_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if requeued != 1:
        raise Invalid({"status": ["Only a failed job can be run again."]})
    activity.record(
        "import.started", actor=user, space_id=job.space_id, entity_type="sync_job",
        entity_id=job.id, details={"provider": job.provider, "retry": True}, info=info,
    )  # fmt: skip
    db.session.commit()
    return job_id


def job_out(job: SyncJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "job_type": job.job_type,
        "provider": job.provider,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "summary": job.summary,
        "error": job.error,
        "file_name": job.file_name,
        "attempts": job.attempts,
        "created_by": job.created_by,
        "space_id": job.space_id,
        "library_id": job.library_id,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def row_out(row: SyncJobRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in REPORT_COLUMNS}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(job: SyncJob) -> Iterable[str]:
    """The per-row audit as CSV, streamed; cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    yield buffer.getvalue()
    last = 0
    while True:
        rows = list(
            db.session.scalars(
                select(SyncJobRow)
                .where(SyncJobRow.job_id == job.id, SyncJobRow.row > last)
                .order_by(SyncJobRow.row)
                .limit(1000)
            )
        )
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([_cell(getattr(row, name)) for name in REPORT_COLUMNS])
        last = rows[-1].row
        yield buffer.getvalue()
