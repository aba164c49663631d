"""Cover storage behind one interface: the local disk (under DATA_DIR) or an S3-compatible bucket
(MinIO, Backblaze B2, AWS), chosen by STORAGE_PROVIDER."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

_KEY = re.compile(r"^covers/[0-9a-f]{32}(-thumb)?\.jpg$")
PRESIGNED_SECONDS = 3600


def valid_key(key: str) -> bool:
    """Only keys this service made: no paths, no surprises."""
    return bool(_KEY.match(key))


class CoverStorage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def load(self, key: str) -> bytes | None: ...

    def url(self, key: str) -> str: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("not a cover key")
        return self.root / key

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file

    def load(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.exists() else None

    def url(self, key: str) -> str:
        return f"/{key}"  # served by the app to signed-in members (see views/covers.py)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, app: Flask) -> None:
        import boto3
        from botocore.config import Config

        cfg = app.config
        self.bucket = cfg["S3_BUCKET"]
        self.public_base = cfg["S3_PUBLIC_BASE_URL"].rstrip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=cfg["S3_ENDPOINT"] or None,
            region_name=cfg["S3_REGION"],
            aws_access_key_id=cfg["S3_ACCESS_KEY_ID"] or None,
            aws_secret_access_key=cfg["S3_SECRET_ACCESS_KEY"] or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if cfg["S3_FORCE_PATH_STYLE"] else "auto"},
                connect_timeout=10,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def save(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl="public, max-age=31536000, immutable",
        )

    def load(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def url(self, key: str) -> str:
        if self.public_base:
            return f"{self.public_base}/{key}"
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=PRESIGNED_SECONDS
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


def storage(app: Flask | None = None) -> CoverStorage:
    app = app or current_app._get_current_object()
    existing = app.extensions.get("boxset_storage")
    if existing is None:
        if app.config["STORAGE_PROVIDER"] == "s3":
            existing = S3Storage(app)
        else:
            existing = LocalStorage(app.config["COVERS_DIR"])
        app.extensions["boxset_storage"] = existing
    return existing
