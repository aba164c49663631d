"""Cover uploads: checked by content, re-encoded with a thumbnail, stored on disk or in S3."""

from __future__ import annotations

import io
import os
import socket

import boto3
import httpx
import pytest
from PIL import Image

from tests.factories import household, join, signed_in


def _image(kind: str = "PNG", size: tuple[int, int] = (400, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, kind)
    return out.getvalue()


def _upload(member, data: bytes, filename: str = "cover.png"):
    return member.upload("/api/media/upload-cover", data, filename, field="cover")


@pytest.fixture
def home(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "COVERS_DIR", str(tmp_path / "covers"))
    app.extensions.pop("boxset_storage", None)
    yield household(app)
    app.extensions.pop("boxset_storage", None)


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_cover_is_stored_with_a_thumbnail_and_served_to_the_household(app, home, kind):
    response = _upload(home.owner, _image(kind), f"cover.{kind.lower()}")
    assert response.status_code == 201, response.json
    key = response.json["cover_key"]
    assert key.startswith("covers/") and key.endswith(".jpg")
    item = home.owner.post("/api/media", json={"title": "Alien", "cover_key": key}).json["result"]
    assert item["cover_url"] == f"/{key}"
    assert item["thumb_url"] == f"/{key[:-4]}-thumb.jpg"
    full = home.owner.get(item["cover_url"])
    thumb = home.owner.get(item["thumb_url"])
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(full.data)).size == (400, 600)
    assert Image.open(io.BytesIO(thumb.data)).size == (300, 450)


def test_covers_of_another_household_are_not_found(app, home):
    key = _upload(home.owner, _image()).json["cover_key"]
    home.owner.post("/api/media", json={"title": "Alien", "cover_key": key})
    stranger = signed_in(app, "sam@example.test")
    assert stranger.get(f"/{key}").status_code == 404
    assert app.test_client().get(f"/{key}").status_code == 401
    assert home.owner.get("/covers/..%2Fsecret_key").status_code == 404


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"plain text pretending", "cover.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "cover.svg"),
        (_image("BMP"), "cover.bmp"),
        (_image("PNG")[:200], "truncated.png"),
    ],
)
def test_anything_but_a_supported_image_is_415(app, home, data, filename):
    response = _upload(home.owner, data, filename)
    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"


def test_a_cover_over_the_upload_limit_is_413(app, home, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    noisy = io.BytesIO()  # random pixels do not compress: about 480 KB
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(noisy, "PNG")
    response = _upload(home.owner, noisy.getvalue())
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_a_decompression_bomb_is_refused(app, home):
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # small file, 144 megapixels
    response = _upload(home.owner, bomb.getvalue())
    assert response.status_code == 413


def test_viewers_cannot_upload_and_a_file_is_required(app, home):
    viewer = join(app, home, "vic@example.test", "viewer")
    assert _upload(viewer, _image()).status_code == 403
    empty = home.owner.client.post(
        "/api/media/upload-cover", data={}, headers=home.owner.csrf,
        content_type="multipart/form-data",
    )  # fmt: skip
    assert empty.status_code == 400 and "cover" in empty.json["message"]


def test_tmdb_poster_paths_go_through_the_tmdb_image_base(app, home):
    item = home.owner.post("/api/media", json={"title": "Alien", "cover_url": "/vfr.jpg"})
    result = item.json["result"]
    assert result["cover_url"] == "https://image.tmdb.org/t/p/w500/vfr.jpg"
    assert result["thumb_url"] == "https://image.tmdb.org/t/p/w300/vfr.jpg"


# --- S3, against moto's real HTTP server ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    ).create_bucket(Bucket="covers")  # fmt: skip
    yield endpoint
    server.stop()


def _s3_settings(endpoint: str, **extra):
    return {
        "STORAGE_PROVIDER": "s3",
        "S3_ENDPOINT": endpoint,
        "S3_BUCKET": "covers",
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
        "S3_FORCE_PATH_STYLE": True,
        "S3_PUBLIC_BASE_URL": "",
        **extra,
    }


def test_s3_covers_are_private_presigned_and_survive_a_restart(app, home, s3_endpoint, monkeypatch):
    for key_name, value in _s3_settings(s3_endpoint).items():
        monkeypatch.setitem(app.config, key_name, value)
    app.extensions.pop("boxset_storage", None)
    response = _upload(home.owner, _image())
    assert response.status_code == 201
    key, url = response.json["cover_key"], response.json["cover_url"]
    assert url.startswith(f"{s3_endpoint}/covers/{key}?") and "X-Amz-Signature" in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    assert httpx.get(f"{s3_endpoint}/covers/{key}").status_code == 403  # private bucket

    # A restart: a new app process sees the same bucket and serves the same cover.
    app.extensions.pop("boxset_storage", None)
    item = home.owner.post("/api/media", json={"title": "Alien", "cover_key": key}).json
    again = httpx.get(item["result"]["cover_url"])
    assert again.status_code == 200 and again.content == fetched.content
    thumb = httpx.get(item["result"]["thumb_url"])
    assert Image.open(io.BytesIO(thumb.content)).size == (300, 450)
    app.extensions.pop("boxset_storage", None)


def test_s3_public_base_url_is_used_when_set(app, home, s3_endpoint, monkeypatch):
    settings = _s3_settings(s3_endpoint, S3_PUBLIC_BASE_URL="https://cdn.example.test/boxset/")
    for key_name, value in settings.items():
        monkeypatch.setitem(app.config, key_name, value)
    app.extensions.pop("boxset_storage", None)
    response = _upload(home.owner, _image())
    assert (
        response.json["cover_url"]
        == f"https://cdn.example.test/boxset/{response.json['cover_key']}"
    )
    app.extensions.pop("boxset_storage", None)
