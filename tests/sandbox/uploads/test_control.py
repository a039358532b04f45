"""The uploads' control surface: files and accepted records listed; a reset forgets them."""

import gzip

import httpx

from bff.sandbox import Simulator
from tests.sandbox.helpers import ORG
from tests.sandbox.uploads.helpers import (
    assert_pointers,
    authorized,
    jsonl,
    processed,
    put,
    record,
    s3_error,
    upload_url,
)


def test_control_lists_uploads_and_records(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api, "listed.jsonl")
    put(item["attributes"]["url"], jsonl(record(1), record(2, currency="CAD")))
    simulator.wait_for_uploads(timeout=30)
    (entry,) = httpx.get(f"{kard_url}/_sandbox/uploads").json()["data"]
    assert entry["id"] == item["id"] and entry["organizationId"] == ORG
    assert (entry["status"], entry["lines"], entry["accepted"], entry["errors"]) == (
        "processed",
        2,
        1,
        1,
    )
    assert entry["resultsUrl"].startswith(f"{kard_url}/s3/kard-results/{item['id']}/results.json?")
    response = httpx.get(
        f"{kard_url}/_sandbox/historical-transactions", params={"userId": "user-1"}
    )
    assert response.json() == {"data": [record(1)]}
    missing = httpx.get(f"{kard_url}/_sandbox/historical-transactions")
    assert_pointers(missing, 400)


def test_reset_forgets_uploads_records_and_results(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    item = upload_url(api)
    put(item["attributes"]["url"], jsonl(record()))
    results_url = processed(simulator, item["id"])["resultsUrl"]
    assert httpx.post(f"{kard_url}/_sandbox/reset").status_code == 204
    assert simulator.uploads.files == [] and simulator.webhooks == []
    assert simulator.historical_transactions("user-1") == []
    s3_error(httpx.get(results_url), 404, "NoSuchKey")
    # The session is gone with the rest: its (still validly signed) URL names no upload.
    s3_error(put(item["attributes"]["url"], jsonl(record())), 404, "NoSuchUpload")


def test_a_reset_during_processing_leaves_nothing_behind(
    api: httpx.Client, kard_url: str, simulator: Simulator
) -> None:
    big = upload_url(api, "big.jsonl.gz")
    lines = [record(n, user="user-big") for n in range(20000)]
    assert put(big["attributes"]["url"], gzip.compress(jsonl(*lines))).status_code == 201
    assert httpx.post(f"{kard_url}/_sandbox/reset").status_code == 204
    with authorized(kard_url) as fresh_api:  # the reset expired the old token
        small = upload_url(fresh_api, "small.jsonl")
    put(small["attributes"]["url"], jsonl(record()))
    processed(simulator, small["id"])  # files are processed in order: the big one is done too
    assert simulator.historical_transactions("user-big") == []
    assert [w.payload["data"]["attributes"]["fileName"] for w in simulator.webhooks] == [
        "small.jsonl"
    ]
    assert [f.session.id for f in simulator.uploads.files] == [small["id"]]
