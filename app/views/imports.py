"""Imports and jobs (api.md "Imports and jobs"): start an import, follow its job, read its report.

Small files are imported while the request waits (200 with the summary and rows); `?async=true`,
or a file larger than `INLINE_MAX_ROWS` records, answers 202 with the queued job at once.
"""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, stream_with_context
from flask_appbuilder.api import expose
from marshmallow import ValidationError, fields, validate, validates

from app.jobs.imports import run_import
from app.schemas.accounts import QueryArgsSchema, QueryId, SpaceArgsSchema, StrictSchema
from app.services import flags, imports, media, tenancy
from app.services.importers import csv_generic, delicious, plex
from app.views.common import (
    BoxsetApi,
    authenticated,
    load_args,
    load_json,
    many,
    one,
    read_upload,
    request_info,
)


class ImportArgsSchema(SpaceArgsSchema):
    library_id = QueryId()
    run_async = fields.Boolean(data_key="async", load_default=False)
    enrich = fields.Boolean(load_default=False)


class PlexImportSchema(StrictSchema):
    section_keys = fields.List(
        fields.String(validate=validate.Length(1, 50)), validate=validate.Length(1, 100)
    )

    @validates("section_keys")
    def _distinct(self, keys: list[str], **_kwargs) -> None:
        if len(set(keys)) != len(keys):
            raise ValidationError("Name each section once.")


class JobListArgsSchema(SpaceArgsSchema):
    status = fields.String(validate=validate.OneOf(("queued", "running", "succeeded", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class JobRowsArgsSchema(QueryArgsSchema):
    status = fields.String(validate=validate.OneOf(("created", "updated", "skipped", "failed")))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**7))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


def _upload(sniff=None) -> tuple[bytes, str | None]:
    """The uploaded file, refused early when it cannot be an export: too large, empty,
    binary (`sniff` may first explain a binary file it recognises)."""
    data, name = read_upload("file", "file")
    if sniff is not None:
        sniff(data)
    imports.check_upload(data, max_bytes=current_app.config["MAX_CONTENT_LENGTH"])
    return data, name


def _import_scope(role: str, what: str) -> tenancy.Scope:
    """The space and library imported into, checked before the upload is read or Plex is
    called: another household's answers 404, an archived library 400, a viewer 403."""
    args = load_args(ImportArgsSchema())
    scope = tenancy.resolve_scope(g.actor, space_id=args.get("space_id"))
    scope.require(role, what)
    media.writable_library_id(scope, args.get("library_id"))
    return scope


def start_import(
    scope: tenancy.Scope,
    provider: str,
    data: bytes | None,
    file_name: str | None,
    records: int,
    **options,
):
    """Queue the job; run it now when it is small and the caller did not ask for async."""
    args = load_args(ImportArgsSchema())
    if args["enrich"]:
        options["enrich"] = True
    job_id = imports.start_job(
        scope, provider, data=data, file_name=file_name, options=options,
        library_id=args.get("library_id"), info=request_info(),
    )  # fmt: skip
    if args["run_async"] or records > imports.INLINE_MAX_ROWS:
        run_import(job_id)
        response = one(imports.job_out(imports.get_job(g.actor, job_id)), 202)
        response.headers["Location"] = f"/api/sync-jobs/{job_id}"
        return response
    job = imports.run_job(job_id)
    rows = [imports.row_out(r) for r in imports.job_rows(job)]
    return jsonify(
        {"id": job.id, "result": {"job": imports.job_out(job), "summary": job.summary,
                                  "rows": rows}}
    )  # fmt: skip


class ImportsApi(BoxsetApi):
    resource_name = "imports"
    route_base = "/api/media"
    openapi_spec_tag = "Imports and jobs"
    openapi_spec_component_schemas = (PlexImportSchema,)
    rate_limits = [("import_start", ("POST",))]

    @expose("/import/template-csv", methods=["GET"])
    @authenticated
    def template_csv(self):
        """The CSV template: every importable column and an example row that imports cleanly.
        ---
        get:
          summary: CSV template
          responses:
            200:
              description: text/csv attachment
              content:
                text/csv: {}
            401:
              description: Not signed in
        """
        return Response(
            csv_generic.template(),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="boxset-template.csv"'},
        )

    @expose("/import-csv", methods=["POST"])
    @authenticated
    def import_csv(self):
        """Import a CSV file (the template's columns) into the active library (or `library_id`).
        ---
        post:
          summary: Import a CSV file
          parameters:
          - {in: query, name: async, schema: {type: boolean}}
          - {in: query, name: enrich, schema: {type: boolean}}
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: library_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file]
                  properties:
                    file: {type: string, format: binary}
          responses:
            200:
              description: Imported; the summary and every row's result
            202:
              description: Queued as a job
            400:
              description: Not a usable CSV file
            401:
              description: Not signed in
            403:
              description: Viewers cannot import
            404:
              description: Not a space or library of mine
            413:
              description: Too large
            503:
              description: CSV imports are turned off
        """
        flags.require("import_csv_enabled")
        scope = _import_scope("member", "import")
        data, name = _upload()
        records = csv_generic.check(data)
        return start_import(scope, "csv_generic", data, name, records)

    @expose("/import-csv/delicious", methods=["POST"])
    @authenticated
    def import_delicious(self):
        """Import a Delicious Library export: the 1.x `<library>` XML, the 2/3 property-list
        XML or the CSV export (detected by content).
        ---
        post:
          summary: Import a Delicious Library export
          parameters:
          - {in: query, name: async, schema: {type: boolean}}
          - {in: query, name: enrich, schema: {type: boolean}}
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: library_id, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  required: [file]
                  properties:
                    file: {type: string, format: binary}
          responses:
            200:
              description: Imported; the summary and every row's result
            202:
              description: Queued as a job
            400:
              description: Not a Delicious Library export, or hostile XML
            401:
              description: Not signed in
            403:
              description: Viewers cannot import
            404:
              description: Not a space or library of mine
            413:
              description: Too large
            503:
              description: CSV imports are turned off
        """
        flags.require("import_csv_enabled")
        scope = _import_scope("member", "import")
        data, name = _upload(sniff=delicious.refuse_library_store)
        records = delicious.check(data)
        return start_import(scope, "csv_delicious", data, name, records)

    @expose("/import-plex", methods=["POST"])
    @authenticated
    def import_plex(self):
        """Import the saved Plex sections (or `section_keys`) of the space's Plex server.
        ---
        post:
          summary: Import from Plex
          parameters:
          - {in: query, name: async, schema: {type: boolean}}
          - {in: query, name: enrich, schema: {type: boolean}}
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: library_id, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/PlexImportSchema'
          responses:
            200:
              description: Imported; the summary and every row's result
            202:
              description: Queued as a job
            400:
              description: Plex not set up, or unknown sections
            401:
              description: Not signed in
            403:
              description: Space admins only
            404:
              description: Not a space or library of mine
            502:
              description: Plex did not answer as expected
            503:
              description: Plex imports are turned off
        """
        flags.require("import_plex_enabled")
        scope = _import_scope("admin", "import from Plex")
        body = load_json(PlexImportSchema())
        sections, total = plex.choose_sections(scope.space_id, body.get("section_keys"))
        return start_import(scope, "plex", None, None, total, sections=sections)


def _job(job_id: int):
    return imports.get_job(g.actor, job_id)


class SyncJobsApi(BoxsetApi):
    resource_name = "sync-jobs"
    route_base = "/api/sync-jobs"
    openapi_spec_tag = "Imports and jobs"
    rate_limits = [("sync_poll", None)]

    @expose("", methods=["GET"])
    @authenticated
    def list_jobs(self):
        """Jobs I may see: mine, and every job of a space I administer (Admin: all).
        ---
        get:
          summary: List jobs
          parameters:
          - in: query
            name: status
            schema: {type: string, enum: [queued, running, succeeded, failed]}
          - {in: query, name: space_id, schema: {type: integer}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 200}}
          responses:
            200:
              description: Jobs, newest first
            400:
              description: Invalid parameters
            401:
              description: Not signed in
        """
        args = load_args(JobListArgsSchema())
        count, jobs = imports.list_jobs(
            g.actor, status=args.get("status"), space_id=args.get("space_id"), limit=args["limit"]
        )
        return many([imports.job_out(j) for j in jobs], count)

    @expose("/<int:job_id>", methods=["GET"])
    @authenticated
    def get_job(self, job_id: int):
        """One job with its progress and summary.
        ---
        get:
          summary: Get a job
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The job
            401:
              description: Not signed in
            404:
              description: Not a job I may see
        """
        return one(imports.job_out(_job(job_id)))

    @expose("/<int:job_id>/rows", methods=["GET"])
    @authenticated
    def job_rows(self, job_id: int):
        """The job's per-row results, in row order.
        ---
        get:
          summary: A job's rows
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          - in: query
            name: status
            schema: {type: string, enum: [created, updated, skipped, failed]}
          - {in: query, name: offset, schema: {type: integer, minimum: 0}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 1000}}
          responses:
            200:
              description: Rows
            400:
              description: Invalid parameters
            401:
              description: Not signed in
            404:
              description: Not a job I may see
        """
        args = load_args(JobRowsArgsSchema())
        job = _job(job_id)
        rows = imports.job_rows(
            job, status=args.get("status"), offset=args["offset"], limit=args["limit"]
        )
        count = imports.count_rows(
            job, args.get("status"), offset=args["offset"], limit=args["limit"], got=len(rows)
        )
        return many([imports.row_out(r) for r in rows], count)

    @expose("/<int:job_id>/report.csv", methods=["GET"])
    @authenticated
    def report(self, job_id: int):
        """The per-row audit as CSV (cells starting with = + - @ are escaped).
        ---
        get:
          summary: A job's report
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: text/csv attachment
              content:
                text/csv: {}
            401:
              description: Not signed in
            404:
              description: Not a job I may see
        """
        job = _job(job_id)
        return Response(
            stream_with_context(imports.report_csv(job)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="boxset-import-{job.id}.csv"'},
        )

    @expose("/<int:job_id>/retry", methods=["POST"])
    @authenticated
    def retry(self, job_id: int):
        """Run a failed job again: it resumes after its last saved row and creates nothing twice.
        ---
        post:
          summary: Run a failed job again
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            202:
              description: Queued again
            400:
              description: The job has not failed
            401:
              description: Not signed in
            404:
              description: Not a job I may see
        """
        run_import(imports.retry_job(g.actor, job_id, request_info()))
        return one(imports.job_out(_job(job_id)), 202)
