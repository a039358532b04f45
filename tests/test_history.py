"""bff/history on its own: line checks, gzip, the manifest, results mapping, 207 mapping."""

import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from bff.history import bulk, jsonl, legacy, results
from bff.history.manifest import Entry, Manifest
from bff.kard.transactions import record_errors


def record(number: int, **attributes: Any) -> dict[str, Any]:
    """A valid historicalTransaction line (the guide's example), changed by `attributes`."""
    base = {
        "userId": f"user-{number % 7}",
        "transactionId": f"txn-{number}",
        "status": "APPROVED",
        "amount": 1000 + number,
        "currency": "USD",
        "direction": "DEBIT",
        "paymentType": "CARD",
        "description": "ADVANCEAUTO",
        "cardBIN": "123456",
        "cardLastFour": "4321",
        "authorizationDate": "2021-07-02T17:47:06Z",
        "merchant": {"id": "12345678901234567", "name": "ADVANCEAUTO", "addrState": "PA"},
    }
    for name, value in attributes.items():
        if value is None:
            base.pop(name)
        else:
            base[name] = value
    return {"id": f"rec-{number}", "type": "historicalTransaction", "attributes": base}


def line(number: int, **attributes: Any) -> bytes:
    return orjson.dumps(record(number, **attributes)) + b"\n"


def write(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def problems(scan: jsonl.Scan) -> list[tuple[int, str]]:
    return [(problem.line, problem.pointer) for problem in scan.problems]


@pytest.mark.parametrize(
    ("bad", "pointer", "message"),
    [
        (b'{"id": "rec-2", "type": \n', "", "invalid JSON at column"),
        (line(2, amount=None), "/attributes/amount", "is required"),
        (line(2, amount="1000"), "/attributes/amount", "must be an integer"),
        (line(2, direction="SIDEWAYS"), "/attributes/direction", "must be DEBIT or CREDIT"),
        (line(2, authorizationDate="yesterday"), "/attributes/authorizationDate", "ISO 8601"),
        (b"\n", "", "blank line"),
        (b"   \r\n", "", "blank line"),
        (b"[1, 2]\n", "", "must be a JSON object"),
        (b'{"id": "rec-2", "type": "sale", "attributes": {}}\n', "/type", "must be one of"),
    ],
    ids=[
        "bad-json",
        "missing",
        "wrong-type",
        "bad-enum",
        "bad-date",
        "blank",
        "spaces",
        "array",
        "type",
    ],
)
def test_each_problem_is_reported_at_its_line(tmp_path, bad, pointer, message):
    source = write(tmp_path / "in.jsonl", line(1), bad, line(3))
    scan = jsonl.scan(source, record_errors)
    assert (scan.lines, scan.valid, scan.invalid) == (3, 2, 1)
    (problem,) = scan.problems
    assert (problem.line, problem.pointer) == (2, pointer)
    assert message in problem.message


def test_line_numbers_count_every_physical_line(tmp_path):
    source = write(
        tmp_path / "in.jsonl",
        line(1),
        b"\n",
        line(3).replace(b"\n", b"\r\n"),
        line(4, currency="usd"),
        line(5),
        line(6, cardBIN="12", cardLastFour=None),
        line(7).rstrip(b"\n"),  # no newline at the end
    )
    scan = jsonl.scan(source, record_errors)
    assert problems(scan) == [
        (2, ""),
        (4, "/attributes/currency"),
        (6, "/attributes/cardBIN"),
        (6, "/attributes/cardLastFour"),
    ]
    assert (scan.lines, scan.valid, scan.invalid, scan.problem_count) == (7, 4, 3, 4)
    assert scan.bytes_in == source.stat().st_size


def test_gzip_holds_exactly_the_valid_lines_when_skipping(tmp_path):
    valid = [line(n) for n in (1, 2, 4, 6)]
    source = write(tmp_path / "in.jsonl", valid[0], valid[1], b"nope\n", valid[2], b"\n", valid[3])
    target = tmp_path / "out.gz"
    scan = jsonl.scan_to_file(source, record_errors, target, compress=True, skip_invalid=True)
    assert gzip.decompress(target.read_bytes()) == b"".join(valid)
    assert (scan.valid, scan.invalid) == (4, 2)
    assert scan.bytes_in == source.stat().st_size
    assert scan.bytes_out == target.stat().st_size


def test_a_valid_file_is_copied_byte_for_byte(tmp_path):
    source = write(tmp_path / "in.jsonl", *(line(n) for n in range(1, 200)))
    plain, packed = tmp_path / "plain", tmp_path / "packed.gz"
    jsonl.scan_to_file(source, record_errors, plain, compress=False, skip_invalid=False)
    scan = jsonl.scan_to_file(source, record_errors, packed, compress=True, skip_invalid=False)
    assert plain.read_bytes() == source.read_bytes()
    assert gzip.decompress(packed.read_bytes()) == source.read_bytes()
    assert scan.bytes_out < scan.bytes_in / 5


def test_only_the_first_problems_are_kept_but_all_are_counted(tmp_path):
    source = write(tmp_path / "in.jsonl", *(b"x\n" for _ in range(jsonl.KEPT_PROBLEMS + 30)))
    scan = jsonl.scan(source, record_errors)
    assert len(scan.problems) == jsonl.KEPT_PROBLEMS
    assert scan.problem_count == scan.invalid == jsonl.KEPT_PROBLEMS + 30


def test_an_overlong_line_is_one_problem_and_the_next_line_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 600)
    source = write(tmp_path / "in.jsonl", b'{"x": "' + b"a" * 2000 + b'"}\n', line(2))
    scan = jsonl.scan(source, record_errors)
    assert problems(scan) == [(1, "")]
    assert "longer than 600 bytes" in scan.problems[0].message
    assert (scan.lines, scan.valid) == (2, 1)


def test_prepare_names_files_for_kard_and_picks_the_content_type(tmp_path):
    source = write(tmp_path / "march.jsonl", line(1))
    work = tmp_path / "work"
    work.mkdir()
    (packed,) = bulk.prepare([source], work)
    (plain,) = bulk.prepare([source], work, compress=False)
    assert (packed.name, packed.content_type) == ("march.jsonl.gz", "application/gzip")
    assert (plain.name, plain.content_type) == ("march.jsonl", "application/octet-stream")


# The manifest.


def test_manifest_finds_an_upload_by_id_then_by_newest_name(tmp_path):
    manifest = Manifest(tmp_path / "state")
    manifest.add(Entry("a.jsonl.gz", "up-1", "/data/old/a.jsonl", "2026-01-01T00:00:00.000Z"))
    manifest.add(Entry("a.jsonl.gz", "up-2", "/data/new/a.jsonl", "2026-01-02T00:00:00.000Z"))
    assert manifest.find(upload_id="up-1", file_name="a.jsonl.gz").source == "/data/old/a.jsonl"
    assert manifest.find(upload_id="up-9", file_name="a.jsonl.gz").source == "/data/new/a.jsonl"
    assert manifest.find(upload_id="up-9", file_name="b.jsonl.gz") is None


def test_an_unreadable_manifest_is_empty_and_is_replaced(tmp_path):
    manifest = Manifest(tmp_path)
    manifest.path.write_text("{not json")
    assert manifest.entries() == []
    manifest.add(Entry("a.jsonl", "up-1", "/a.jsonl", "2026-01-01T00:00:00.000Z"))
    assert [entry.upload_id for entry in manifest.entries()] == ["up-1"]


# Results files.


@pytest.mark.parametrize(
    ("detail", "message", "echo"),
    [
        ("Invalid request: .userId should be a string", None, None),
        ('Invalid request: .currency must be USD | {"id": "a | b"}', None, '{"id": "a | b"}'),
        ("Invalid request: bad JSON | {oops", "Invalid request: bad JSON", "{oops"),
    ],
)
def test_split_detail_keeps_the_message_and_the_echoed_line(detail, message, echo):
    expected = message or detail.split(" | ")[0]
    assert results.split_detail(detail) == (expected, echo)


def results_document(*errors: dict[str, Any], name: str = "in.jsonl.gz") -> bytes:
    data = {"type": "fileProcessingResult", "id": "n-1"}
    data["attributes"] = {"fileType": "historicalTransactionsFile", "fileName": name, "fileId": "f"}
    return orjson.dumps({"data": data, "errors": list(errors)})


def error(detail: str, record_id: str | None = None) -> dict[str, Any]:
    found = {"status": "400", "title": "Invalid Request", "detail": detail}
    return found | ({"id": record_id} if record_id else {})


def test_results_map_by_id_by_echoed_text_and_else_to_nothing(tmp_path):
    twin = line(5, amount=7)
    source = write(tmp_path / "in.jsonl", line(1), line(2), twin, line(4), twin)
    echoed = twin.decode().strip()
    document = results.parse(
        results_document(
            error(f"Invalid request: .currency must be USD | {line(4).decode().strip()}", "rec-4"),
            error(f"Invalid request: .amount too small | {echoed}"),  # no id: the echo's
            error("Invalid request: .merchant unknown", "rec-2"),
            error("Invalid request: .userId unknown", "rec-99"),
        )
    )
    mapped = results.map_to_lines(document, source)
    assert [(error.line, error.message) for error in mapped] == [
        (2, "Invalid request: .merchant unknown"),
        (3, "Invalid request: .amount too small"),
        (4, "Invalid request: .currency must be USD"),
        (None, "Invalid request: .userId unknown"),
    ]


def test_a_repeated_id_is_told_apart_by_the_echoed_line(tmp_path):
    first, second = line(1), line(1, amount=5)
    source = write(tmp_path / "in.jsonl", first, second)
    detail = f"Invalid request: .amount too small | {second.decode().strip()}"
    (mapped,) = results.map_to_lines(
        results.parse(results_document(error(detail, "rec-1"))), source
    )
    assert mapped.line == 2


def test_an_invalid_json_line_is_found_by_its_text(tmp_path):
    source = write(tmp_path / "in.jsonl", line(1), b'{"id": "rec-2",\n')
    detail = 'Invalid request: not JSON | {"id": "rec-2",'
    (mapped,) = results.map_to_lines(results.parse(results_document(error(detail))), source)
    assert (mapped.line, mapped.message) == (2, "Invalid request: not JSON")


@pytest.mark.parametrize(
    "raw", [b"<Error/>", b"[]", b'{"errors": "none"}', b'{"data": {}, "errors": [1]}']
)
def test_a_document_that_is_no_results_file_is_unreadable(raw):
    with pytest.raises(results.ResultsUnreadable):
        results.parse(raw)


class _ChunksOnly(io.BytesIO):
    """A file that fails the test if it is read whole."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and 0 <= size <= 1 << 20, "the results were read whole"
        return super().read(size)


def test_results_are_parsed_a_chunk_at_a_time(tmp_path):
    lines = [line(n) for n in range(1, 3001)]
    source = write(tmp_path / "in.jsonl", *lines)
    echoes = [f"Invalid request: .currency must be USD | {text.decode().strip()}" for text in lines]
    document = results_document(*(error(echo) for echo in echoes))
    assert len(document) > 1 << 20
    parsed = results.parse(_ChunksOnly(document))
    mapped = results.map_to_lines(parsed, source)
    assert [error.line for error in mapped] == list(range(1, 3001))


def test_a_clean_results_file_has_no_errors():
    assert results.parse(results_document()).errors == []


# Add Upload Part's 207, mapped to lines.


def test_a_207_is_mapped_to_lines_by_item_id_else_by_pointer():
    part = [(10, record(1)), (11, record(2)), (14, record(3))]
    answer = {
        "errors": [
            {"status": "400", "title": "Invalid", "detail": "currency must be USD", "id": "rec-2"},
            {
                "status": "400",
                "title": "Invalid",
                "detail": "in the future",
                "source": {"pointer": "/data/2/attributes/authorizationDate"},
            },
            {"status": "400", "title": "Invalid", "detail": "who?", "id": "rec-77"},
        ],
        "data": [],
    }
    assert legacy.refused_items(answer, part) == [
        jsonl.Problem(11, "", "currency must be USD"),
        jsonl.Problem(14, "/attributes/authorizationDate", "in the future"),
        jsonl.Problem(0, "", "who?"),
    ]


def test_legacy_lines_must_belong_to_the_user(tmp_path):
    source = write(tmp_path / "in.jsonl", line(1, userId="ana"), line(2, userId="bob"))
    scan = legacy.check(source, "ana")
    assert problems(scan) == [(2, "/attributes/userId")]
    assert "must be ana" in scan.problems[0].message
