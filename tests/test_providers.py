"""Provider clients against local fake services over real HTTP (no mocks of our code):
normalisation, the error rules of api.md, retries, throttling, caching, Plex paging and XML,
and keys kept out of every log line."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time

import pytest

from app.errors import AppError
from app.providers.barcode import (
    BarcodeClient,
    InvalidBarcode,
    guess_format,
    normalise_upc,
    search_titles,
    season_number,
)
from app.providers.http import (
    HttpOptions,
    ProviderAuthError,
    ProviderError,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderRateLimited,
    ResponseCache,
    RetryPolicy,
    Throttle,
    redact_url,
)
from app.providers.plex import PlexClient, UnsupportedSection, resolution_from
from app.providers.tmdb import TmdbClient, is_bearer_token
from app.providers.vision import VisionClient, shrink_image, title_candidates
from app.schemas.media import MediaPostSchema, SeasonsPutSchema
from tests.fakes import barcode as fake_barcode_data
from tests.fakes import ocr as fake_ocr_data
from tests.fakes import plex as fake_plex_data
from tests.fakes import tmdb as fake_tmdb_data
from tests.fakes.server import fixture_bytes

TMDB_KEY = fake_tmdb_data.API_KEY
PLEX_TOKEN = fake_plex_data.TOKEN


def tmdb(fake, options, key=TMDB_KEY) -> TmdbClient:
    return TmdbClient(key, fake.base_url, options=options)


def plex(fake, options, token=PLEX_TOKEN) -> PlexClient:
    return PlexClient(fake.url, token, client_identifier="boxset-test", options=options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------- TMDB


def test_tmdb_movie_search_is_normalised(fake_tmdb, fast_http):
    results = tmdb(fake_tmdb, fast_http).search("Blade Runner", media_type="movie")

    assert [r["tmdb_id"] for r in results] == [78, 335984, 99999901]
    first = results[0]
    assert first == {
        "tmdb_id": 78,
        "tmdb_media_type": "movie",
        "title": "Blade Runner",
        "original_title": "Blade Runner",
        "year": 1982,
        "overview": first["overview"],
        "poster_url": "https://image.tmdb.org/t/p/w500/WewCldfD1iuGAqoxzp7f2NjtH4C.jpg",
        "rating": 7.9,
    }
    # "" release date, null poster and no votes become empty values, not 0 or junk
    assert results[2]["year"] is None
    assert results[2]["poster_url"] is None
    assert results[2]["rating"] is None
    assert results[2]["overview"] is None
    call = fake_tmdb.calls("/3/search/movie")[0]
    assert call.query["query"] == "Blade Runner"
    assert call.query["include_adult"] == "false"


def test_tmdb_tv_search_uses_name_and_first_air_date(fake_tmdb, fast_http):
    results = tmdb(fake_tmdb, fast_http).search("Breaking Bad", 2008, media_type="tv")

    assert results[0]["title"] == "Breaking Bad"
    assert results[0]["tmdb_media_type"] == "tv"
    assert results[0]["year"] == 2008
    assert fake_tmdb.calls("/3/search/tv")[0].query["first_air_date_year"] == "2008"


def test_tmdb_movie_details_become_item_fields(fake_tmdb, fast_http):
    item = tmdb(fake_tmdb, fast_http).details(78, "movie")

    assert item["title"] == "Blade Runner"
    assert item["media_type"] == "movie"
    assert (item["year"], item["release_date"], item["runtime"]) == (1982, "1982-06-25", 117)
    assert item["directors"] == ["Ridley Scott"]  # not the First Assistant Director
    assert item["cast"][:2] == ["Harrison Ford", "Rutger Hauer"]
    assert item["genres"] == ["Science Fiction", "Drama", "Thriller"]
    assert item["imdb_id"] == "tt0083658"
    assert (item["tmdb_id"], item["tmdb_media_type"], item["rating"]) == (78, "movie", 7.9)
    assert item["trailer_url"] == "https://www.youtube.com/watch?v=vPCtHH90HtJ"  # official
    assert item["cover_url"] == "https://image.tmdb.org/t/p/w500/WewCldfD1iuGAqoxzp7f2NjtH4C.jpg"
    assert item["backdrop_url"].startswith("https://image.tmdb.org/t/p/w1280/")
    assert "network" not in item and "seasons" not in item
    assert fake_tmdb.calls("/3/movie/78")[0].query["append_to_response"] == (
        "credits,videos,external_ids"
    )
    MediaPostSchema().load(item)  # the importer can store it as it is


def test_tmdb_tv_details_have_creators_network_and_seasons(fake_tmdb, fast_http):
    client = tmdb(fake_tmdb, fast_http)
    item = client.details(1396, "tv")

    assert item["media_type"] == "tv_series"
    assert item["tmdb_media_type"] == "tv"
    assert item["directors"] == ["Vince Gilligan"]
    assert item["network"] == "AMC"
    assert item["runtime"] == 55  # episode_run_time is [] → last episode's runtime
    assert item["imdb_id"] == "tt0903747"  # from external_ids
    assert item["seasons"] == [
        {"season_number": n, "expected_episodes": count}
        for n, count in [(1, 7), (2, 13), (3, 13), (4, 13), (5, 16)]
    ]
    assert client.details(1396, "tv", include_specials=True)["seasons"][0] == {
        "season_number": 0,
        "expected_episodes": 9,
    }
    seasons = item.pop("seasons")
    MediaPostSchema().load(item)
    SeasonsPutSchema().load({"seasons": seasons})


def test_tmdb_unknown_id_is_not_found_and_answers_404(fake_tmdb, fast_http):
    with pytest.raises(ProviderNotFound) as caught:
        tmdb(fake_tmdb, fast_http).details(4242, "movie")

    assert caught.value.message == "TMDB has no movie with id 4242."
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert len(fake_tmdb.calls()) == 1  # a 404 is not retried


def test_tmdb_rejects_bad_input_before_calling(fake_tmdb, fast_http):
    client = tmdb(fake_tmdb, fast_http)
    with pytest.raises(ValueError):
        client.details("abc", "movie")
    with pytest.raises(ValueError):
        client.search("Heat", media_type="episode")
    assert client.search("   ") == []
    assert fake_tmdb.calls() == []


def test_tmdb_v3_key_goes_in_the_query_and_v4_token_in_a_bearer_header(fake_tmdb, fast_http):
    tmdb(fake_tmdb, fast_http).search("Heat")
    tmdb(fake_tmdb, fast_http, key=fake_tmdb_data.BEARER_TOKEN).search("Heat")

    v3, v4 = fake_tmdb.calls()
    assert v3.query["api_key"] == TMDB_KEY and "authorization" not in v3.headers
    assert "api_key" not in v4.query
    assert v4.header("Authorization") == f"Bearer {fake_tmdb_data.BEARER_TOKEN}"
    assert is_bearer_token(fake_tmdb_data.BEARER_TOKEN) and not is_bearer_token(TMDB_KEY)


def test_tmdb_wrong_key_is_a_clear_credentials_error(fake_tmdb, fast_http):
    client = tmdb(fake_tmdb, fast_http, key="0" * 32)
    with pytest.raises(ProviderAuthError) as caught:
        client.search("Heat")

    assert str(caught.value) == "TMDB rejected the credentials (HTTP 401)."
    assert (caught.value.status, caught.value.code) == (502, "upstream_error")
    assert caught.value.upstream_status == 401
    assert len(fake_tmdb.calls()) == 1  # credentials errors are not retried
    assert client.test() == {
        "ok": False,
        "authenticated": False,
        "status": 401,
        "detail": "TMDB rejected the credentials (HTTP 401).",
    }


def test_tmdb_test_button_reports_success(fake_tmdb, fast_http):
    result = tmdb(fake_tmdb, fast_http).test()
    assert result == {
        "ok": True,
        "authenticated": True,
        "status": 200,
        "detail": "TMDB accepted the key.",
    }


def test_missing_key_is_reported_without_calling(fake_tmdb, fast_http):
    client = tmdb(fake_tmdb, fast_http, key="")
    with pytest.raises(ProviderNotConfigured, match="TMDB has no API key configured"):
        client.search("Heat")
    assert client.test()["ok"] is False
    assert fake_tmdb.calls() == []


# ---------------------------------------------------------------------------- retries and errors


def test_429_is_retried_then_succeeds(fake_tmdb, fast_http):
    fake_tmdb.fail_next(1, 429, retry_after=0)

    results = tmdb(fake_tmdb, fast_http).search("Heat")

    assert results[0]["tmdb_id"] == 949
    assert len(fake_tmdb.calls("/3/search/movie")) == 2


def test_retry_after_is_honoured(fake_tmdb, fast_http):
    fake_tmdb.fail_next(1, 429, retry_after=1)
    started = time.monotonic()

    tmdb(fake_tmdb, fast_http).search("Heat")

    first, second = fake_tmdb.calls()
    assert second.at - first.at >= 1.0
    assert time.monotonic() - started < 3


def test_a_quota_longer_than_we_wait_fails_at_once(fake_tmdb, fast_http):
    fake_tmdb.fail_next(5, 429, retry_after=3600)

    with pytest.raises(ProviderRateLimited) as caught:
        tmdb(fake_tmdb, fast_http).search("Heat")

    assert caught.value.retry_after == 3600
    assert "TMDB is rate limiting requests (HTTP 429); try again in 60 minutes" in str(caught.value)
    assert len(fake_tmdb.calls()) == 1


def test_5xx_is_retried_until_the_attempts_run_out(fake_tmdb, fast_http):
    fake_tmdb.fail_next(10, 500)

    with pytest.raises(ProviderError) as caught:
        tmdb(fake_tmdb, fast_http).search("Heat")

    assert str(caught.value) == "TMDB answered 500."
    assert caught.value.kind == "server"
    assert len(fake_tmdb.calls()) == 3


def test_one_503_then_success(fake_tmdb, fast_http):
    fake_tmdb.fail_next(1, 503)
    assert tmdb(fake_tmdb, fast_http).details(603)["title"] == "The Matrix"
    assert len(fake_tmdb.calls()) == 2


def test_a_slow_provider_times_out_with_a_clear_error(fake_tmdb):
    fake_tmdb.delay_next(1.5)
    options = HttpOptions(timeout=0.3, retry=RetryPolicy(attempts=3, backoff=0.01))
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        tmdb(fake_tmdb, options).search("Heat")

    assert str(caught.value) == "TMDB did not answer within 0.3 s."
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 1.2  # a timeout is not retried by default
    assert len(fake_tmdb.calls()) == 1


def test_a_refused_connection_is_retried_then_named(fast_http):
    client = TmdbClient(TMDB_KEY, f"http://127.0.0.1:{free_port()}/3", options=fast_http)

    with pytest.raises(ProviderError) as caught:
        client.search("Heat")

    assert caught.value.kind == "connection"
    assert str(caught.value) == "TMDB could not be reached (connection refused or host unknown)."
    assert caught.value.upstream_status is None
    assert client.test()["authenticated"] is None


def test_a_host_name_that_cannot_be_encoded_is_a_provider_error(fast_http):
    client = TmdbClient(TMDB_KEY, "http://xn--zz.com/3", options=fast_http)  # bad punycode

    with pytest.raises(ProviderError) as caught:
        client.search("Heat")

    assert caught.value.kind == "connection"
    assert "invalid URL" in str(caught.value)


def test_an_answer_that_is_not_json_is_an_error(fake_tmdb, fast_http):
    fake_tmdb.override("/3/search/movie", "<html>maintenance</html>", content_type="text/html")

    with pytest.raises(ProviderError, match="TMDB sent an answer that is not valid JSON"):
        tmdb(fake_tmdb, fast_http).search("Heat")


def test_an_oversized_answer_is_refused(fake_tmdb):
    fake_tmdb.override("/3/search/movie", b"x" * 5000)
    options = HttpOptions(timeout=2, max_response_bytes=1000)
    with pytest.raises(ProviderError, match="larger than 1000 bytes"):
        tmdb(fake_tmdb, options).search("Heat")


def test_provider_errors_are_app_errors_with_the_api_codes():
    assert isinstance(ProviderError("TMDB", "answered 500", 500), AppError)
    assert ProviderError("TMDB", "answered 500", 500).code == "upstream_error"
    assert ProviderNotFound("TMDB", "has no movie with id 1").status == 404


def test_urls_are_logged_without_query_or_credentials():
    assert redact_url("https://user:pw@api.example.com:8443/3/search?api_key=s3cret") == (
        "https://api.example.com:8443/3/search"
    )


# ---------------------------------------------------------------------------- throttle and cache


def test_a_shared_throttle_spaces_calls_from_all_threads(fake_tmdb):
    options = HttpOptions(timeout=2, throttle=Throttle(min_interval=0.1))
    client = tmdb(fake_tmdb, options)
    threads = [threading.Thread(target=client.search, args=("Heat",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    arrivals = sorted(r.at for r in fake_tmdb.calls())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] >= 0.28, gaps  # 3 intervals, less scheduling noise
    assert min(gaps) >= 0.04, gaps


def test_throttle_allows_a_burst_then_keeps_the_rate():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    throttle = Throttle(10, burst=3, clock=lambda: now[0], sleep=sleep)
    assert [throttle.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert throttle.acquire() == pytest.approx(0.1)
    throttle.defer(5)
    assert throttle.acquire() == pytest.approx(5.0)  # nobody before 5 s from now


def test_the_job_cache_avoids_a_second_request(fake_tmdb, fast_http):
    cache = ResponseCache()
    options = HttpOptions(timeout=2, retry=fast_http.retry, cache=cache)
    client = tmdb(fake_tmdb, options)

    first = client.details(78)
    second = client.details(78)
    with pytest.raises(ProviderNotFound):
        client.details(4242)
    with pytest.raises(ProviderNotFound):
        client.details(4242)  # an unknown id is asked for once per job too

    assert first == second
    assert len(fake_tmdb.calls("/3/movie/78")) == 1
    assert len(fake_tmdb.calls("/3/movie/4242")) == 1
    assert cache.hits == 2
    # credentials are not part of the key: another client of the same job shares it
    tmdb(fake_tmdb, options, key=fake_tmdb_data.BEARER_TOKEN).details(78)
    assert len(fake_tmdb.calls("/3/movie/78")) == 1


# ---------------------------------------------------------------------------- barcode


def test_upcitemdb_trial_lookup_cleans_titles(fake_barcode, fast_http):
    client = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, options=fast_http)

    result = client.lookup("0 85765 41223 7")

    assert result["upc"] == "085765412237"
    assert result["provider"] == "upcitemdb"
    (match,) = result["matches"]
    assert match["title"].startswith("Blade Runner (The Final Cut) [Blu-ray]")
    assert match["search_titles"][:2] == ["Blade Runner", "Blade Runner (The Final Cut)"]
    assert match["format"] == "Blu-ray"
    assert match["image"] == "https://images.example.com/upc/085765412237-front.jpg"
    assert match["description"].startswith("Ridley Scott's definitive version")
    call = fake_barcode.calls()[0]
    assert call.path == "/prod/trial/lookup" and call.query == {"upc": "085765412237"}
    assert "user_key" not in call.headers


def test_upcitemdb_key_uses_the_paid_endpoint_and_headers(fake_barcode, fast_http):
    client = BarcodeClient(
        "upcitemdb",
        fake_barcode.upcitemdb_url,
        fake_barcode_data.UPCITEMDB_KEY,
        options=fast_http,
    )
    assert client.lookup("0085765412237")["matches"]
    call = fake_barcode.calls()[0]
    assert call.path == "/prod/v1/lookup"
    assert call.header("user_key") == fake_barcode_data.UPCITEMDB_KEY
    assert call.header("key_type") == "3scale"
    assert "key" not in call.query

    wrong = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, "nope", options=fast_http)
    with pytest.raises(ProviderAuthError, match="UPCitemdb rejected the credentials"):
        wrong.lookup("085765412237")
    assert wrong.test()["authenticated"] is False


def test_unknown_or_empty_barcode_has_no_matches(fake_barcode, fast_http):
    client = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, options=fast_http)

    assert client.lookup("012345678905")["matches"] == []  # 404 NOT_FOUND
    assert client.lookup(fake_barcode_data.EMPTY_UPC)["matches"] == []  # 200, total 0
    assert len(fake_barcode.calls()) == 2


@pytest.mark.parametrize("value", ["12345", "123456789012345", "0857-6541-223X", "", None, 12.5])
def test_malformed_barcodes_are_refused_before_calling(fake_barcode, fast_http, value):
    client = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, options=fast_http)
    with pytest.raises(InvalidBarcode) as caught:
        client.lookup(value)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.status, caught.value.code) == (400, "validation_failed")
    assert "upc" in caught.value.message
    assert fake_barcode.calls() == []


def test_normalise_upc_keeps_digits():
    assert normalise_upc("0-24543-10457-5") == "024543104575"
    assert normalise_upc(96385074) == "96385074"


def test_a_used_up_daily_quota_fails_once_without_a_retry_storm(fake_barcode, fast_http):
    fake_barcode.daily_limit = 0
    client = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, options=fast_http)

    with pytest.raises(ProviderRateLimited) as caught:
        client.lookup("085765412237")

    assert caught.value.retry_after == 3600
    assert str(caught.value).startswith("UPCitemdb is rate limiting requests (HTTP 429)")
    assert len(fake_barcode.calls()) == 1


def test_a_gateway_error_page_is_a_provider_error(fake_barcode, fast_http):
    fake_barcode.fail_next(3, 502)
    client = BarcodeClient("upcitemdb", fake_barcode.upcitemdb_url, options=fast_http)
    with pytest.raises(ProviderError, match=r"^UPCitemdb answered 502\.$"):
        client.lookup("085765412237")


def test_barcodelookup_preset(fake_barcode, fast_http):
    client = BarcodeClient(
        "barcodelookup",
        fake_barcode.barcodelookup_url,
        fake_barcode_data.BARCODELOOKUP_KEY,
        options=fast_http,
    )

    result = client.lookup("085765412237")

    assert result["provider"] == "barcodelookup"
    (match,) = result["matches"]
    assert match["search_titles"] == ["Blade Runner: The Final Cut", "Blade Runner"]
    assert match["format"] == "Blu-ray"
    assert match["image"] == "https://images.example.com/barcodelookup/085765412237.jpg"
    call = fake_barcode.calls()[0]
    assert call.path == "/v3/products"
    assert call.query == {"barcode": "085765412237", "key": fake_barcode_data.BARCODELOOKUP_KEY}
    assert client.lookup("012345678905")["matches"] == []
    assert client.test()["ok"] is True
    with pytest.raises(ProviderError, match="Barcode Lookup needs an API key"):
        BarcodeClient("barcodelookup", fake_barcode.barcodelookup_url).lookup("085765412237")


def test_clients_build_from_either_settings_shape(fake_tmdb, fake_plex, fast_http):
    from types import SimpleNamespace

    flat = TmdbClient.from_settings(
        {"tmdb_api_url": fake_tmdb.base_url, "tmdb_api_key": TMDB_KEY}, options=fast_http
    )
    typed = TmdbClient.from_settings(
        SimpleNamespace(api_url=fake_tmdb.base_url, api_key=TMDB_KEY), options=fast_http
    )
    assert flat.search("Heat") == typed.search("Heat")
    client = PlexClient.from_settings(
        SimpleNamespace(api_url=fake_plex.url, api_token=PLEX_TOKEN, sections=[]),
        options=fast_http,
    )
    assert client.sections()[0]["key"] == "1"
    vision = VisionClient.from_settings({"vision_api_key": "k"})
    assert vision.http.base_url == "https://api.ocr.space/parse/image"


def test_barcode_settings_pick_the_preset():
    client = BarcodeClient.from_settings(
        {"barcode_preset": "barcodelookup", "barcode_api_key": "k"}
    )
    assert client.http.base_url == "https://api.barcodelookup.com/v3/products"
    paid = BarcodeClient.from_settings({"barcode_api_key": "k"})
    assert paid.http.base_url == "https://api.upcitemdb.com/prod/v1/lookup"
    with pytest.raises(ValueError):
        BarcodeClient("amazon")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Blade Runner (The Final Cut) [Blu-ray] 2-Disc Special Edition Widescreen",
            ["Blade Runner", "Blade Runner (The Final Cut)"],
        ),
        ("Inception 4K Ultra HD + Blu-ray + Digital Copy", ["Inception"]),
        ("Heat (Two-Disc Special Edition) (DVD)", ["Heat"]),
        ("Good Night, and Good Luck. (Widescreen) DVD", ["Good Night, and Good Luck."]),
        (
            "Breaking Bad: The Complete First Season (DVD)",
            ["Breaking Bad", "Breaking Bad: The Complete First Season"],
        ),
        (
            "The Godfather Collection (DVD, 5-Disc Box Set) Region 1",
            ["The Godfather Collection", "The Godfather"],
        ),
        ("Star Wars: The Empire Strikes Back", ["Star Wars: The Empire Strikes Back", "Star Wars"]),
        ("Ultraviolet (Unrated Edition) [DVD]", ["Ultraviolet"]),
        ("The Matrix VHS Tape", ["The Matrix"]),
    ],
)
def test_product_titles_become_search_titles(title, expected):
    assert search_titles(title) == expected


def test_format_and_season_are_guessed_from_the_product_title():
    assert guess_format("Alien 4K UHD + Blu-ray") == "4K UHD"
    assert guess_format("Alien [Blu-ray]") == "Blu-ray"
    assert guess_format("Alien (DVD)") == "DVD"
    assert guess_format("Alien") is None
    assert season_number("South Park - The Complete Sixth Season") == 6
    assert season_number("The Office Season 3") == 3
    assert season_number("A Series of Unfortunate Events") is None


# ---------------------------------------------------------------------------- OCR


def test_ocr_reads_a_cover_and_lists_title_candidates(fake_ocr, fast_http):
    client = VisionClient(fake_ocr_data.API_KEY, fake_ocr.base_url, options=fast_http)

    result = client.recognize(b"\xff\xd8\xff fake jpeg bytes", "image/jpeg")

    assert result["text"].splitlines()[:2] == ["BLADE RUNNER", "THE FINAL CUT "]
    assert result["title_candidates"][:2] == ["BLADE RUNNER", "THE FINAL CUT"]
    assert "R" not in result["title_candidates"]
    assert result["detail"] is None
    call = fake_ocr.calls()[0]
    assert call.header("apikey") == fake_ocr_data.API_KEY
    assert "apikey" not in call.form and call.query == {}
    assert call.files["file"]["filename"] == "cover.jpg"
    assert call.files["file"]["data"] == b"\xff\xd8\xff fake jpeg bytes"
    assert call.form["language"] == "eng"


def test_ocr_unreadable_image_gives_no_text_and_a_reason(fake_ocr, fast_http):
    client = VisionClient(fake_ocr_data.API_KEY, fake_ocr.base_url, options=fast_http)

    result = client.recognize(b"UNREADABLE image", "image/png")

    assert result["text"] == "" and result["title_candidates"] == []
    assert result["detail"].startswith("OCR.space could not read the image")


def test_ocr_request_error_in_a_200_body_is_a_provider_error(fake_ocr, fast_http):
    fake_ocr.override("/parse/image", fixture_bytes("ocr/parse_error.json"))
    client = VisionClient(fake_ocr_data.API_KEY, fake_ocr.base_url, options=fast_http)
    with pytest.raises(ProviderError, match=r"OCR\.space could not process the image"):
        client.recognize(b"\xff\xd8\xff")


def test_ocr_wrong_key_is_a_credentials_error(fake_ocr, fast_http):
    client = VisionClient("wrong", fake_ocr.base_url, options=fast_http)
    with pytest.raises(ProviderAuthError, match=r"OCR.space rejected the credentials \(HTTP 403\)"):
        client.recognize(b"\xff\xd8\xff")
    assert client.test()["authenticated"] is False
    assert VisionClient(fake_ocr_data.API_KEY, fake_ocr.base_url, options=fast_http).test()["ok"]


def test_title_candidates_follow_the_earlier_rules():
    text = (
        "THE MATRIX\r\nthe matrix\r\nR\r\n1999\r\n12 34\r\n  Keanu   Reeves \n"
        + "\n".join(f"Line {n}" for n in range(20))
        + "\n"
        + "x" * 91
    )
    candidates = title_candidates(text)
    assert candidates[:2] == ["THE MATRIX", "Keanu Reeves"]
    assert len(candidates) == 12
    assert all(3 <= len(c) <= 90 for c in candidates)


def test_shrink_image_fits_the_free_ocr_limit():
    import io

    from PIL import Image

    noisy = Image.effect_noise((1600, 1600), 100).convert("RGB")
    raw = io.BytesIO()
    noisy.save(raw, "PNG")
    data, kind = shrink_image(raw.getvalue(), max_bytes=200_000)
    assert kind == "image/jpeg" and len(data) <= 200_000
    small = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    assert shrink_image(small) == (small, "image/png")
    with pytest.raises(ValueError):
        shrink_image(b"not an image" * 200_000)


# ---------------------------------------------------------------------------- Plex


def test_plex_sections_send_the_token_as_a_header(fake_plex, fast_http):
    sections = plex(fake_plex, fast_http).sections()

    assert sections == [
        {"key": "1", "title": "Movies", "type": "movie"},
        {"key": "2", "title": "TV Shows", "type": "show"},
        {"key": "3", "title": "Music", "type": "artist"},
    ]
    call = fake_plex.calls()[0]
    assert call.header("X-Plex-Token") == PLEX_TOKEN
    assert "X-Plex-Token" not in call.query
    assert call.header("Accept") == "application/json"
    assert call.header("X-Plex-Client-Identifier") == "boxset-test"
    assert call.header("X-Plex-Product") == "Boxset"


def test_plex_items_are_paged_until_the_total(fake_plex, fast_http):
    fake_plex.synthetic_movies = 45  # 6 fixture movies + 45 = 51

    items = list(plex(fake_plex, fast_http).iter_items("1", section_type="movie", page_size=20))

    assert len(items) == 51
    assert len({i.rating_key for i in items}) == 51
    pages = fake_plex.calls("/library/sections/1/all")
    assert [p.header("X-Plex-Container-Start") for p in pages] == ["0", "20", "40"]
    assert {p.header("X-Plex-Container-Size") for p in pages} == {"20"}
    assert all(p.query == {"type": "1", "includeGuids": "1"} for p in pages)


def test_plex_paging_follows_a_page_size_the_server_forces(fake_plex, fast_http):
    fake_plex.synthetic_movies = 10
    fake_plex.max_page_size = 7

    items = list(plex(fake_plex, fast_http).iter_items("1", section_type="movie", page_size=50))

    assert len(items) == 16
    starts = [p.header("X-Plex-Container-Start") for p in fake_plex.calls("/library/sections")]
    assert starts == ["0", "7", "14"]


def test_plex_iteration_is_lazy(fake_plex, fast_http):
    fake_plex.synthetic_movies = 500
    items = plex(fake_plex, fast_http).iter_items("1", section_type="movie", page_size=50)

    first = next(items)

    assert first.rating_key == "1001"
    assert len(fake_plex.calls("/library/sections/1/all")) == 1
    items.close()


def test_plex_movies_map_to_items_and_variants(fake_plex, fast_http):
    items = {i.rating_key: i for i in plex(fake_plex, fast_http).iter_items("1")}

    matrix = items["1001"]
    assert (matrix.tmdb_id, matrix.imdb_id, matrix.guid) == (
        603,
        "tt0133093",
        "plex://movie/5d7768ba96b655001fdc1a20",
    )
    assert matrix.fields["runtime"] == 136
    assert matrix.fields["user_rating"] == 9.0
    assert matrix.fields["rating"] == 8.5  # audience rating first
    assert matrix.fields["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert matrix.fields["tmdb_media_type"] == "movie"
    assert matrix.fields["format"] == "Digital"
    assert matrix.view_count == 3
    assert matrix.variants == [
        {
            "edition": None,
            "format": "Digital",
            "resolution": "1080p",
            "width": 1920,
            "height": 800,
            "container": "mkv",
            "video_codec": "h264",
            "audio_codec": "eac3",
            "source_provider": "plex",
            "source_key": "1001:5001",
        }
    ]
    # two editions of one work: same guid, own editionTitle
    final, theatrical = items["1002"], items["1003"]
    assert final.guid == theatrical.guid and final.tmdb_id == 78
    assert (final.edition_title, final.variants[0]["resolution"]) == ("The Final Cut", "4k")
    assert theatrical.variants[0]["edition"] == "Theatrical Cut"
    spirited = items["1004"]
    assert spirited.fields["original_title"] == "千と千尋の神隠し"
    assert [v["resolution"] for v in spirited.variants] == ["1080p", "720p"]
    alien = items["1005"]  # legacy agent: the id is in the guid itself
    assert (alien.imdb_id, alien.tmdb_id, alien.fields["tmdb_media_type"]) == (
        "tt0078748",
        None,
        None,
    )
    assert alien.variants[0]["resolution"] == "sd"
    heat = items["1006"]
    assert heat.fields["runtime"] == 170 and len(heat.variants) == 1
    for item in items.values():
        MediaPostSchema().load(item.fields)


def test_plex_guids_need_include_guids(fake_plex, fast_http):
    items = list(plex(fake_plex, fast_http).iter_items("1", section_type="movie"))
    assert fake_plex.calls("/library/sections/1/all")[0].query["includeGuids"] == "1"
    assert sum(1 for i in items if i.tmdb_id) == 5


def test_plex_shows_come_with_their_seasons(fake_plex, fast_http):
    client = plex(fake_plex, fast_http)
    shows = list(client.iter_items("2", section_type="show"))

    breaking = shows[0]
    assert breaking.fields["media_type"] == "tv_series"
    assert breaking.fields["network"] == "AMC"
    assert (breaking.tmdb_id, breaking.tvdb_id, breaking.fields["tmdb_media_type"]) == (
        1396,
        81189,
        "tv",
    )
    assert breaking.seasons == [
        {"season_number": 1, "expected_episodes": None, "available_episodes": 7},
        {"season_number": 2, "expected_episodes": None, "available_episodes": 13},
    ]
    assert breaking.variants == []
    assert fake_plex.calls("/library/metadata/2001/children")  # by ratingKey, not key
    assert client.seasons("2001", include_specials=True)[0]["season_number"] == 0
    MediaPostSchema().load(breaking.fields)
    SeasonsPutSchema().load({"seasons": breaking.seasons})


def test_a_show_that_vanished_keeps_importing_without_seasons(fake_plex, fast_http):
    fake_plex.fail_next(1, 404, path="/library/metadata/2001/children")

    shows = list(plex(fake_plex, fast_http).iter_items("2", section_type="show"))

    assert [s.rating_key for s in shows] == ["2001", "2002"]
    assert shows[0].seasons == [] and len(shows[1].seasons) == 2


def test_plex_without_an_address_is_not_configured(fast_http):
    client = PlexClient("", PLEX_TOKEN, options=fast_http)
    with pytest.raises(ProviderNotConfigured, match="Plex has no URL configured"):
        client.sections()
    with pytest.raises(ProviderNotConfigured, match="does not start with http"):
        PlexClient("plex.lan:32400", PLEX_TOKEN, options=fast_http).sections()
    assert client.test()["ok"] is False


def test_plex_xml_answers_parse_like_json(fake_plex, fast_http):
    fake_plex.synthetic_movies = 5
    fake_plex.synthetic_shows = 2
    client = plex(fake_plex, fast_http)
    as_json = [i.to_dict() for k in ("1", "2") for i in client.iter_items(k, page_size=4)]
    sections_json = client.sections()

    fake_plex.force_xml = True  # a server (or proxy) that ignores Accept
    as_xml = [i.to_dict() for k in ("1", "2") for i in client.iter_items(k, page_size=4)]

    assert as_xml == as_json
    assert client.sections() == sections_json


def test_plex_fixture_xml_matches_the_fixture_json(fake_plex, fast_http):
    client = plex(fake_plex, fast_http)
    as_json = [i.to_dict() for i in client.iter_items("1", section_type="movie")]
    fake_plex.override(
        "/library/sections/1/all",
        fixture_bytes("plex/section_1_all.xml"),
        content_type="application/xml",
    )
    as_xml = [i.to_dict() for i in client.iter_items("1", section_type="movie")]
    assert as_xml == as_json


@pytest.mark.parametrize("name", ["plex/billion_laughs.xml", "plex/external_entity.xml"])
def test_hostile_plex_xml_is_refused(fake_plex, fast_http, name):
    fake_plex.override("/library/sections", fixture_bytes(name), content_type="text/xml")
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        plex(fake_plex, fast_http).sections()

    assert caught.value.kind == "invalid_response"
    assert "refuses to parse" in str(caught.value)
    assert time.monotonic() - started < 2


def test_plex_without_a_valid_token(fake_plex, fast_http):
    client = plex(fake_plex, fast_http, token="wrong")
    with pytest.raises(ProviderAuthError, match=r"^Plex rejected the credentials \(HTTP 401\)\.$"):
        client.sections()
    result = client.test()
    assert (result["ok"], result["authenticated"], result["status"]) == (False, False, 401)
    assert result["sections"] == []
    assert plex(fake_plex, fast_http).identity()["machine_identifier"] == (
        fake_plex_data.MACHINE_ID
    )


def test_plex_test_button_lists_sections(fake_plex, fast_http):
    result = plex(fake_plex, fast_http).test()
    assert result["ok"] is True and result["authenticated"] is True
    assert [s["key"] for s in result["sections"]] == ["1", "2", "3"]
    assert "2 of them movie or TV sections" in result["detail"]


def test_plex_music_sections_are_not_imported(fake_plex, fast_http):
    client = plex(fake_plex, fast_http)
    with pytest.raises(UnsupportedSection, match="artist"):
        list(client.iter_items("3"))
    with pytest.raises(UnsupportedSection, match="no library section 9"):
        list(client.iter_items("9"))


def test_plex_count_items(fake_plex, fast_http):
    fake_plex.synthetic_movies = 100
    assert plex(fake_plex, fast_http).count_items("1", "movie") == 106
    assert fake_plex.calls("/library/sections/1/all")[0].header("X-Plex-Container-Size") == "0"


def test_plex_streams_ten_thousand_items(fake_plex, fast_http):
    fake_plex.synthetic_movies = 10_000
    started = time.monotonic()
    count = 0
    editions = 0
    for item in plex(fake_plex, fast_http).iter_items("1", section_type="movie", page_size=500):
        count += 1
        editions += bool(item.edition_title)
        assert item.variants and item.variants[0]["resolution"] in {"sd", "720p", "1080p", "4k"}
    assert count == 10_006
    assert editions > 300
    assert len(fake_plex.calls("/library/sections/1/all")) == 21
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("label", "width", "height", "expected"),
    [
        ("1080", 1920, 800, "1080p"),
        ("4k", 3840, 1600, "4k"),
        ("720", 1280, 544, "720p"),
        ("480", 720, 480, "sd"),
        ("sd", None, None, "sd"),
        (None, 720, 576, "sd"),
        (None, 960, 720, "720p"),
        (None, 1920, 1080, "1080p"),
        (None, 1920, 800, "1080p"),  # scope 1080p: the width decides
        (None, 3840, 2160, "4k"),
        (None, None, 2000, "4k"),
        (None, None, 699, "sd"),
        (None, None, 700, "720p"),
        (None, None, 1000, "1080p"),
        (None, None, None, None),
    ],
)
def test_resolution_mapping(label, width, height, expected):
    assert resolution_from(label, width, height) == expected


# ---------------------------------------------------------------------------- secrets in logs


def test_no_log_record_contains_a_key_or_token(
    caplog, fake_tmdb, fake_barcode, fake_ocr, fake_plex, fast_http
):
    secrets = [
        TMDB_KEY,
        fake_tmdb_data.BEARER_TOKEN,
        fake_barcode_data.UPCITEMDB_KEY,
        fake_barcode_data.BARCODELOOKUP_KEY,
        fake_ocr_data.API_KEY,
        PLEX_TOKEN,
    ]
    caplog.set_level(logging.DEBUG)
    fake_tmdb.fail_next(1, 429, retry_after=0)
    fake_tmdb.fail_next(3, 500, path="/3/movie")
    tmdb(fake_tmdb, fast_http).search("Heat")
    tmdb(fake_tmdb, fast_http, key=fake_tmdb_data.BEARER_TOKEN).search("Heat")
    with pytest.raises(ProviderError):
        tmdb(fake_tmdb, fast_http).details(78)
    fake_tmdb.api_key = "something-else"
    with pytest.raises(ProviderAuthError) as auth:
        tmdb(fake_tmdb, fast_http).search("Heat")
    BarcodeClient(
        "upcitemdb", fake_barcode.upcitemdb_url, fake_barcode_data.UPCITEMDB_KEY, options=fast_http
    ).lookup("085765412237")
    BarcodeClient(
        "barcodelookup",
        fake_barcode.barcodelookup_url,
        fake_barcode_data.BARCODELOOKUP_KEY,
        options=fast_http,
    ).lookup("085765412237")
    VisionClient(fake_ocr_data.API_KEY, fake_ocr.base_url, options=fast_http).recognize(b"x")
    fake_plex.delay_next(1.0, path="/library/sections/2")
    client = plex(fake_plex, HttpOptions(timeout=0.3))
    list(client.iter_items("1"))
    with pytest.raises(ProviderError):
        list(client.iter_items("2", section_type="show"))

    assert caplog.records, "provider calls are logged"
    assert any("TMDB GET http://127.0.0.1" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_info or "")
        for secret in secrets:
            assert secret not in text, (record.name, text)
    assert TMDB_KEY not in str(auth.value) and TMDB_KEY not in repr(auth.value)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("-2", 0.0), ("nan", None), ("inf", None), ("soon", None), ("", None)],
)
def test_retry_after_values_that_are_no_delay_are_ignored(header, seconds):
    from app.providers.http import parse_retry_after

    assert parse_retry_after(header) == seconds
