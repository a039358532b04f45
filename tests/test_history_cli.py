"""`kard-bff history upload` and `history results` against the Kard simulator over real HTTP."""

import gzip
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from bff.cli import main
from bff.errors import PresignedUrlExpired
from bff.history import bulk
from bff.history.manifest import Manifest
from bff.kard.client import KardClient
from bff.sandbox import create_simulator_app
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.test_history import line, write

URLS = r"^/v2/issuers/[^/]+/transactions/uploads$"
STORAGE = r"^/s3/kard-uploads/"
FUTURE = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def history(kard_url, tmp_path):
    """Run `kard-bff history ARGS...` against the simulator, with its state in tmp_path."""
    config = {"KARD_ENV": "sandbox", "KARD_API_URL": kard_url, "BFF_STATE_DIR": str(tmp_path)}

    def run(*args: str):
        return CliRunner().invoke(main, ["history", *args], obj=config)

    return run


@pytest.fixture
def client(kard_url):
    kard = KardClient(
        api_url=kard_url,
        token_url=f"{kard_url}/v2/auth/token",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        organization_id="org-sandbox",
    )
    yield kard
    kard.close()


def accepted_ids(simulator, *users: str) -> set[str]:
    simulator.wait_for_uploads(30)
    return {found["id"] for user in users for found in simulator.historical_transactions(user)}


# Checking before uploading.


def test_a_file_with_invalid_lines_is_refused_and_nothing_is_sent(simulator, history, tmp_path):
    source = write(
        tmp_path / "march.jsonl",
        line(1),
        line(2, amount="12.50"),
        b"{oops\n",
        line(4, direction="SIDEWAYS", authorizationDate="2021-13-45T00:00:00Z"),
    )
    result = history("upload", str(source))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{source}:2: /attributes/amount must be an integer",
        f"{source}:3: invalid JSON at column 2: unexpected character, expected a string key",
        f"{source}:4: /attributes/direction must be DEBIT or CREDIT",
        f"{source}:4: /attributes/authorizationDate must be an ISO 8601 date-time with a time "
        "zone, like 2021-07-02T17:47:06Z",
    ]
    assert "refused: 3 invalid lines in 1 of 1 files; nothing was uploaded" in result.stderr
    assert simulator.calls_to(URLS, "POST") == []
    assert simulator.calls_to(STORAGE) == []
    assert Manifest(tmp_path).entries() == []


def test_one_bad_file_stops_the_good_ones_too(simulator, history, tmp_path):
    good = write(tmp_path / "good.jsonl", line(1))
    bad = write(tmp_path / "bad.jsonl", line(2, currency=None))
    result = history("upload", str(good), str(bad))
    assert result.exit_code == 1
    assert result.stdout == f"{bad}:1: /attributes/currency is required\n"
    assert simulator.calls_to(URLS, "POST") == []


def test_the_printed_problems_are_capped_with_a_count(simulator, history, tmp_path):
    source = write(tmp_path / "bad.jsonl", *(b"\n" for _ in range(45)))
    result = history("upload", str(source))
    assert result.exit_code == 1
    printed = result.stdout.splitlines()
    assert printed[0] == f"{source}:1: blank line: each line must be one JSON object"
    assert printed[-1] == f"{source}: ... and 25 more problems"
    assert len(printed) == 21


# The bulk flow.


def test_skip_invalid_uploads_the_valid_lines_gzipped(simulator, history, tmp_path):
    source = write(tmp_path / "march.jsonl", line(1), line(2, amount=None), b"\n", line(4))
    result = history("upload", "--skip-invalid", str(source))
    assert result.exit_code == 0, result.output
    (put,) = simulator.calls_to(STORAGE, "PUT")
    assert put.status == 201
    assert put.path.endswith("/march.jsonl.gz")
    assert put.headers["Content-Type"] == "application/gzip"
    assert "Authorization" not in put.headers
    size = int(put.headers["Content-Length"])
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith(
        f"{source}: 4 lines, 2 valid, 2 skipped; {source.stat().st_size} bytes, {size} gzipped"
    )
    assert accepted_ids(simulator, "user-1", "user-4") == {"rec-1", "rec-4"}
    (upload,) = simulator.uploads.files
    assert summary.endswith(f"upload {upload.session.id}")
    assert (upload.outcome.lines, upload.outcome.errors) == (2, 0)
    (entry,) = Manifest(tmp_path).entries()
    assert (entry.file_name, entry.upload_id) == ("march.jsonl.gz", upload.session.id)
    assert entry.source == str(source.resolve())


def test_a_terminal_sees_progress_bars_and_a_pipe_does_not(simulator, kard_url, tmp_path):
    source = write(tmp_path / "tty.jsonl", *(line(n) for n in range(1, 2001)))
    env = {**os.environ, "KARD_ENV": "sandbox", "KARD_API_URL": kard_url}
    env |= {"BFF_STATE_DIR": str(tmp_path), "COLUMNS": "100"}
    command = [sys.executable, "-m", "bff.cli", "history", "upload", str(source)]
    terminal, stderr = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    os.close(stderr)
    progress = b"".join(_read_until_closed(terminal)).decode()
    assert process.wait(timeout=60) == 0
    assert "checking" in progress and "uploading" in progress and "100%" in progress
    piped = subprocess.run(command, env=env, capture_output=True, text=True)
    assert piped.returncode == 0
    assert piped.stderr == ""


def _read_until_closed(terminal: int) -> Iterator[bytes]:
    """What is written to a pseudo-terminal until its other end closes (read as it comes, so the
    writer never blocks on a full buffer)."""
    try:
        while chunk := os.read(terminal, 1 << 16):
            yield chunk
    except OSError:  # EIO: every writer has closed it
        pass
    finally:
        os.close(terminal)


def test_no_gzip_sends_the_plain_file(simulator, history, tmp_path):
    source = write(tmp_path / "plain.jsonl", line(1), line(2))
    result = history("upload", "--no-gzip", str(source))
    assert result.exit_code == 0, result.output
    (put,) = simulator.calls_to(STORAGE, "PUT")
    assert put.path.endswith("/plain.jsonl")
    assert put.headers["Content-Type"] == "application/octet-stream"
    assert put.headers["Content-Length"] == str(source.stat().st_size)
    assert "sent uncompressed" in result.stdout
    assert accepted_ids(simulator, "user-1", "user-2") == {"rec-1", "rec-2"}


def test_eleven_files_take_two_url_requests(simulator, history, tmp_path):
    sources = [write(tmp_path / f"day-{n:02d}.jsonl", line(n)) for n in range(1, 12)]
    result = history("upload", *map(str, sources))
    assert result.exit_code == 0, result.output
    requests = simulator.calls_to(URLS, "POST")
    assert [len(call.json["data"]) for call in requests] == [10, 1]
    assert requests[1].json["data"][0]["attributes"]["filename"] == "day-11.jsonl.gz"
    assert len(simulator.calls_to(STORAGE, "PUT")) == 11
    assert len(result.stdout.splitlines()) == 11
    users = {f"user-{n % 7}" for n in range(1, 12)}
    assert accepted_ids(simulator, *users) == {f"rec-{n}" for n in range(1, 12)}


def test_an_expired_url_is_replaced_once(simulator, client, kard_url, tmp_path, monkeypatch):
    source = write(tmp_path / "late.jsonl", line(1), line(2))
    (work := tmp_path / "work").mkdir()
    files = bulk.prepare([source], work)
    create = client.create_upload_urls
    asked: list[list[str]] = []

    def create_then_expire(names: list[str]) -> list[dict]:
        urls = create(names)
        asked.append(names)
        if len(asked) == 1:  # the first URLs expire before the file is sent
            httpx.post(f"{kard_url}/_sandbox/expire-upload-urls").raise_for_status()
        return urls

    monkeypatch.setattr(client, "create_upload_urls", create_then_expire)
    bulk.upload(client, files, Manifest(tmp_path))
    assert asked == [["late.jsonl.gz"], ["late.jsonl.gz"]]
    assert [call.status for call in simulator.calls_to(STORAGE, "PUT")] == [403, 201]
    (file,) = files
    assert file.fresh_url
    assert file.upload_id == simulator.uploads.files[0].session.id
    assert accepted_ids(simulator, "user-1", "user-2") == {"rec-1", "rec-2"}


def test_a_url_that_expires_twice_is_an_error(simulator, client, kard_url, tmp_path, monkeypatch):
    source = write(tmp_path / "late.jsonl", line(1))
    (work := tmp_path / "work").mkdir()
    files = bulk.prepare([source], work)
    create = client.create_upload_urls

    def create_then_expire(names: list[str]) -> list[dict]:
        urls = create(names)
        httpx.post(f"{kard_url}/_sandbox/expire-upload-urls").raise_for_status()
        return urls

    monkeypatch.setattr(client, "create_upload_urls", create_then_expire)
    with pytest.raises(PresignedUrlExpired):
        bulk.upload(client, files, Manifest(tmp_path))
    assert Manifest(tmp_path).entries() == []


REFUSED = {"errors": [{"status": "400", "title": "Invalid Request", "detail": "no such issuer"}]}


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ({"status": 500, "path": URLS}, "Kard error: Kard answered 500."),
        (
            {"status": 400, "path": URLS, "body": REFUSED},
            "Kard refused the request (400): Invalid Request: no such issuer",
        ),
        (
            {"status": 503, "path": STORAGE, "retry_after": 5},
            "Kard unavailable: Kard's storage is busy or unavailable; try again later.",
        ),
    ],
    ids=["urls-500", "urls-400", "storage-503"],
)
def test_kard_failing_is_one_line_and_exit_code_2(simulator, history, tmp_path, fault, said):
    simulator.faults.inject(**fault)
    result = history("upload", str(write(tmp_path / "a.jsonl", line(1))))
    assert result.exit_code == 2
    assert result.stderr == f"kard-bff: {said}\n"
    assert result.stdout == ""
    assert Manifest(tmp_path).entries() == []


def test_presigned_put_works_over_an_in_process_transport(simulator, tmp_path):
    transport = httpx.WSGITransport(app=create_simulator_app(simulator))
    kard = KardClient(
        api_url="http://kard.embedded",
        token_url="http://kard.embedded/v2/auth/token",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        organization_id="org-sandbox",
        transport=transport,
    )
    body = write(tmp_path / "a.jsonl", line(1))
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(body.read_bytes()))
    (url,) = kard.create_upload_urls(["a.jsonl.gz"])
    assert url["attributes"]["url"].startswith("http://kard.embedded/s3/kard-uploads/")
    assert url["attributes"]["expiresIn"] == 900
    kard.storage.put(url["attributes"]["url"], packed, "application/gzip")
    kard.close()
    (put,) = simulator.calls_to(STORAGE, "PUT")
    assert (put.status, put.headers["Content-Length"]) == (201, str(packed.stat().st_size))
    assert "Authorization" not in put.headers
    assert accepted_ids(simulator, "user-1") == {"rec-1"}


def test_more_than_ten_urls_at_once_is_a_programming_error(client):
    with pytest.raises(ValueError, match="1 to 10"):
        client.create_upload_urls([f"{n}.jsonl" for n in range(11)])


# The deprecated per-user flow.


def test_legacy_sends_parts_of_500_and_maps_refused_items_to_lines(simulator, history, tmp_path):
    refused = {
        7: {"currency": "EUR"},
        612: {"authorizationDate": FUTURE},
        1200: {"currency": "CAD"},
    }
    lines = [line(n, userId="ana", **refused.get(n, {})) for n in range(1, 1201)]
    source = write(tmp_path / "ana.jsonl", *lines)
    result = history("upload", "--legacy", "ana", str(source))
    assert result.exit_code == 1, result.output
    assert "deprecated; Kard supports it until the end of 2027" in result.stderr
    (start,) = simulator.calls_to(r"/users/ana/uploads$", "POST")
    assert start.json == {"data": {"type": "historicalTransactionStart", "attributes": {}}}
    parts = simulator.calls_to(r"/users/ana/uploads/[^/]+/parts$", "PUT")
    assert [len(call.json["data"]) for call in parts] == [500, 500, 200]
    assert [call.status for call in parts] == [207, 207, 207]
    (complete,) = simulator.calls_to(r"/users/ana/uploads/[^/]+$", "PUT")
    assert complete.json["data"]["type"] == "historicalTransactionComplete"
    assert complete.status == 200
    upload_id = complete.json["data"]["id"]
    assert result.stdout.splitlines() == [
        f"{source}: 1200 lines, 1200 valid, 0 skipped; upload {upload_id}: 3 parts, "
        "1200 sent, 3 refused by Kard, completed",
        f"{source}:7: /attributes/currency must be USD, the only currency the sandbox supports",
        f"{source}:612: /attributes/authorizationDate must not be in the future",
        f"{source}:1200: /attributes/currency must be USD, the only currency the sandbox supports",
    ]
    assert len(simulator.historical_transactions("ana")) == 1197


def test_legacy_lines_of_another_user_are_refused_before_anything_is_sent(
    simulator, history, tmp_path
):
    source = write(tmp_path / "ana.jsonl", line(1, userId="ana"), line(2, userId="bob"))
    result = history("upload", "--legacy", "ana", str(source))
    assert result.exit_code == 1
    assert f"{source}:2: /attributes/userId must be ana, the user of --legacy" in result.stdout
    assert simulator.calls_to(r"/uploads") == []


def test_legacy_skip_invalid_sends_the_rest(simulator, history, tmp_path):
    source = write(
        tmp_path / "ana.jsonl", line(1, userId="ana"), line(2, paymentType=None, userId="ana")
    )
    result = history("upload", "--legacy", "ana", "--skip-invalid", str(source))
    assert result.exit_code == 0, result.output
    assert "2 lines, 1 valid, 1 skipped" in result.stdout
    assert [found["id"] for found in simulator.historical_transactions("ana")] == ["rec-1"]


# Results files.


def results_file(path: Path, *errors: dict) -> Path:
    attributes = {"fileType": "historicalTransactionsFile", "fileName": "x.jsonl.gz", "fileId": "f"}
    document = {"data": {"type": "fileProcessingResult", "id": "r", "attributes": attributes}}
    path.write_bytes(orjson.dumps(document | {"errors": list(errors)}))
    return path


def test_results_from_a_file_are_printed_at_their_lines(history, tmp_path):
    source = write(tmp_path / "x.jsonl", line(1), line(2), line(3))
    echo = line(3).decode().strip()
    found = results_file(
        tmp_path / "results.json",
        {"status": "400", "title": "Invalid Request", "detail": f"Invalid request: .a b | {echo}"},
        {
            "status": "400",
            "title": "Invalid Request",
            "detail": "Invalid request: .c d",
            "id": "rec-1",
        },
        {
            "status": "400",
            "title": "Invalid Request",
            "detail": "Invalid request: .e f",
            "id": "zz",
        },
    )
    result = history("results", str(found), "--source", str(source))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{source}:1: Invalid request: .c d",
        f"{source}:3: Invalid request: .a b",
        f"{source}:?: Invalid request: .e f",
    ]
    assert "3 lines refused by Kard (1 not found in the file: shown with ?)" in result.stderr


def test_clean_results_exit_0(history, tmp_path):
    result = history("results", str(results_file(tmp_path / "results.json")))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no errors" in result.stderr


def test_results_without_a_file_name_are_labelled_by_their_path(history, tmp_path):
    (tmp_path / "bare.json").write_bytes(b'{"errors": [{"detail": "Invalid request: .x y"}]}')
    result = history("results", str(tmp_path / "bare.json"))
    assert result.exit_code == 1
    assert result.stdout == f"{tmp_path / 'bare.json'}:?: Invalid request: .x y\n"


@pytest.mark.parametrize("content", [b"nope", b'{"data": {}}'])
def test_unreadable_results_exit_2(history, tmp_path, content):
    (tmp_path / "results.json").write_bytes(content)
    result = history("results", str(tmp_path / "results.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("kard-bff: cannot read the results: ")


def test_missing_results_file_exits_2(history, tmp_path):
    result = history("results", str(tmp_path / "nothing.json"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


def test_results_from_kards_url_map_to_the_uploaded_file(simulator, history, tmp_path):
    source = write(
        tmp_path / "april.jsonl",
        line(1),
        line(2, currency="EUR"),
        line(3),
        line(4, merchant={"name": "SHOP", "addrState": "ZZ"}),
        line(5, authorizationDate=FUTURE),
    )
    assert history("upload", str(source)).exit_code == 0
    simulator.wait_for_uploads(30)
    (webhook,) = simulator.webhooks
    url = webhook.payload["data"]["attributes"]["downloadUrl"]
    result = history("results", url)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"{source.resolve()}:2: Invalid request: .attributes.currency must be USD, the only "
        "currency the sandbox supports",
        f"{source.resolve()}:4: Invalid request: .attributes.merchant.addrState must be a US "
        "state code, like PA",
        f"{source.resolve()}:5: Invalid request: .attributes.authorizationDate must not be in "
        "the future",
    ]
    assert url not in result.output  # the signed URL is a credential
    (get,) = simulator.calls_to(r"^/s3/kard-results/", "GET")
    assert "Authorization" not in get.headers


def test_an_expired_results_url_is_exit_2(simulator, history, tmp_path):
    source = write(tmp_path / "may.jsonl", line(1))
    assert history("upload", str(source)).exit_code == 0
    simulator.wait_for_uploads(30)
    url = simulator.webhooks[0].payload["data"]["attributes"]["downloadUrl"]
    simulator.results_urls.expire_all()
    result = history("results", url)
    assert result.exit_code == 2
    assert result.stderr == (
        "kard-bff: Presigned URL expired: The presigned download URL has expired.\n"
    )
