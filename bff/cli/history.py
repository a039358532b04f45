"""`kard-bff history`: upload historical transactions, and map a results file's errors to lines."""

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from bff import current
from bff.cli.common import Config, build_app, fail, failing_on_kard_errors
from bff.history import bulk, legacy, report
from bff.history import results as upload_results
from bff.history.jsonl import Problem, Scan
from bff.history.manifest import Manifest
from bff.kard.extension import kard


@click.group()
def history() -> None:
    """Upload historical transactions to Kard, and map a results file's errors to lines."""


@history.command("upload")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--skip-invalid", is_flag=True, help="Leave invalid lines out instead of refusing the file."
)
@click.option(
    "--legacy",
    "legacy_user",
    metavar="USER_ID",
    help="Send to an upload session of USER_ID (Kard's deprecated per-user API).",
)
@click.option(
    "--gzip/--no-gzip",
    "compress",
    default=True,
    show_default=True,
    help="Compress each file before uploading it (bulk flow).",
)
@click.pass_obj
def history_upload(
    config: Config,
    files: tuple[Path, ...],
    skip_invalid: bool,
    legacy_user: str | None,
    compress: bool,
) -> None:
    """Check JSONL files, then upload them to Kard.

    Every line of every FILE is checked first; a file with invalid lines is refused (exit 1,
    nothing uploaded) unless --skip-invalid. Kard's failures exit 2.
    """
    app = build_app(config)
    with app.app_context(), failing_on_kard_errors():
        if legacy_user is None:
            code = _upload_bulk(list(files), skip_invalid=skip_invalid, compress=compress)
        else:
            code = _upload_legacy(list(files), legacy_user, skip_invalid=skip_invalid)
    sys.exit(code)


@history.command("results")
@click.argument("url_or_file")
@click.option(
    "--source",
    "original",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The uploaded JSONL file (default: found in the upload manifest).",
)
@click.pass_obj
def history_results(config: Config, url_or_file: str, original: Path | None) -> None:
    """Map a results file's errors to lines.

    URL_OR_FILE is the fileProcessingResult webhook's downloadUrl, or a saved results file.
    Each error is printed as FILE:LINE: MESSAGE (? when the line is not found). Exit 0 when
    there are no errors, 1 when there are, 2 when the results cannot be read.
    """
    app = build_app(config)
    with app.app_context(), failing_on_kard_errors():
        try:
            found = upload_results.load(url_or_file, kard().storage.download)
        except upload_results.ResultsUnreadable as error:
            fail(f"cannot read the results: {error}", code=2)
        if original is None:
            original = upload_results.original(found, Manifest(current.settings().state_dir))
            if original is not None and not original.is_file():
                click.echo(f"kard-bff: the uploaded file {original} is gone", err=True)
                original = None
        errors = upload_results.map_to_lines(found, original)
    # Never the URL itself: its query is a credential.
    named = "results" if upload_results.is_url(url_or_file) else url_or_file
    label = str(original or found.file_name or named)
    for error in errors:
        click.echo(report.problem_line(label, Problem(error.line or 0, "", error.message)))
    unmapped = sum(error.line is None for error in errors)
    click.echo(report.results_summary(label, len(errors), unmapped), err=True)
    sys.exit(1 if errors else 0)


def _upload_bulk(files: list[Path], *, skip_invalid: bool, compress: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="kard-bff-history-") as work_dir:
        with _progress("checking", sum(file.stat().st_size for file in files)) as progress:
            prepared = bulk.prepare(
                files,
                Path(work_dir),
                compress=compress,
                skip_invalid=skip_invalid,
                progress=progress,
            )
        if _refused([file.scan for file in prepared], skip_invalid):
            return 1
        manifest = Manifest(current.settings().state_dir)
        try:
            with _progress("uploading", sum(file.scan.bytes_out for file in prepared)) as progress:
                bulk.upload(kard(), prepared, manifest, progress=progress)
        finally:
            # Also after a failure: say which files did go.
            done = [file for file in prepared if file.upload_id or not file.scan.valid]
            _echo_lines([report.bulk_summary(file) for file in done])
    return 0


def _upload_legacy(files: list[Path], user_id: str, *, skip_invalid: bool) -> int:
    click.echo(f"kard-bff: {report.DEPRECATION_NOTE}", err=True)
    with _progress("checking", sum(file.stat().st_size for file in files)) as progress:
        scans = [legacy.check(file, user_id, progress=progress) for file in files]
    if _refused(scans, skip_invalid):
        return 1
    refused = 0
    for scan in scans:
        sent = legacy.send(kard(), scan.source, user_id) if scan.valid else None
        click.echo(report.legacy_summary(scan, sent))
        if sent is not None:
            refused += len(sent.refused)
            _echo_lines([report.problem_line(str(scan.source), p) for p in sent.refused])
    return 1 if refused else 0


def _refused(scans: list[Scan], skip_invalid: bool) -> bool:
    """Print every file's problems; refuse (and say so) when any has some, unless skipping."""
    for scan in scans:
        _echo_lines(report.problem_lines(scan))
    if skip_invalid or not any(scan.invalid for scan in scans):
        return False
    click.echo(f"kard-bff: {report.refusal(scans)}", err=True)
    return True


@contextmanager
def _progress(label: str, length: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar in bytes, on stderr when it is a terminal; otherwise none."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def _echo_lines(lines: list[str]) -> None:
    if lines:
        click.echo("\n".join(lines))
