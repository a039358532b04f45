"""The words of `kard-bff history`: one line per problem, and one summary line per file."""

from bff.history.bulk import GZIP_TYPE, Prepared
from bff.history.jsonl import Problem, Scan
from bff.history.legacy import SUPPORTED_UNTIL, Sent

DEPRECATION_NOTE = (
    "note: the per-user upload API (--legacy) is deprecated; Kard supports it until "
    f"{SUPPORTED_UNTIL}. New integrations upload files in bulk (without --legacy)."
)


def problem_line(label: str, problem: Problem) -> str:
    """`FILE:LINE: <pointer> <message>`; line 0 (not found) is `?`."""
    pointer = f"{problem.pointer} " if problem.pointer else ""
    return f"{label}:{problem.line or '?'}: {pointer}{problem.message}"


def problem_lines(scan: Scan) -> list[str]:
    """The scan's kept problems, and how many more there were."""
    lines = [problem_line(str(scan.source), problem) for problem in scan.problems]
    more = scan.problem_count - len(scan.problems)
    if more:
        lines.append(f"{scan.source}: ... and {more} more problems")
    return lines


def counts(scan: Scan) -> str:
    """`FILE: N lines, N valid, N skipped`."""
    return f"{scan.source}: {scan.lines} lines, {scan.valid} valid, {scan.invalid} skipped"


def bulk_summary(file: Prepared) -> str:
    """One file of the bulk flow: its counts, sizes and upload ID."""
    scan = file.scan
    if file.content_type == GZIP_TYPE:
        ratio = scan.bytes_out / scan.bytes_in if scan.bytes_in else 0.0
        sizes = f"{scan.bytes_in} bytes, {scan.bytes_out} gzipped ({ratio:.1%})"
    else:
        sizes = f"{scan.bytes_in} bytes, {scan.bytes_out} sent uncompressed"
    if file.upload_id is None:
        return f"{counts(scan)}; {sizes}; not uploaded: no valid lines"
    fresh = " (on a fresh URL: the first had expired)" if file.fresh_url else ""
    return f"{counts(scan)}; {sizes}; upload {file.upload_id}{fresh}"


def legacy_summary(scan: Scan, sent: Sent | None) -> str:
    """One file of the per-user flow: its counts, parts, and what Kard refused."""
    if sent is None:
        return f"{counts(scan)}; not uploaded: no valid lines"
    return (
        f"{counts(scan)}; upload {sent.upload_id}: {sent.parts} parts, "
        f"{sent.items} sent, {len(sent.refused)} refused by Kard, completed"
    )


def refusal(scans: list[Scan]) -> str:
    """Why nothing was uploaded."""
    bad = [scan for scan in scans if scan.invalid]
    invalid = sum(scan.invalid for scan in bad)
    return (
        f"refused: {invalid} invalid lines in {len(bad)} of {len(scans)} files; nothing was "
        "uploaded. Fix them, or pass --skip-invalid to leave them out."
    )


def results_summary(label: str, errors: int, unmapped: int) -> str:
    """The last word of `history results`."""
    if not errors:
        return f"{label}: no errors; Kard processed every line"
    where = f" ({unmapped} not found in the file: shown with ?)" if unmapped else ""
    return f"{label}: {errors} lines refused by Kard{where}"
