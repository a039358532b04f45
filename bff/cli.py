"""The `kard-bff` command line."""

import dataclasses
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from bff import current, server
from bff.attributions.extension import delivery
from bff.errors import UpstreamError, UpstreamRejected
from bff.history import bulk, legacy, report
from bff.history import results as upload_results
from bff.history.jsonl import Problem, Scan
from bff.history.manifest import Manifest
from bff.kard import KardUnreachable
from bff.kard.extension import kard, webview_tokens
from bff.middleware import RequestIdFilter
from bff.redact import GunicornLogger, RedactingFilter, redact_logs
from bff.server import DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_HEADER_TIMEOUT_SECONDS
from bff.settings import ConfigError, comma_items, load_settings
from bff.themes import codec
from bff.timestamps import utc_timestamp
from bff.webhooks.extension import dispatcher
from bff.webview import absolute_webview_url, session_url

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kard-bff: a backend for frontend in front of the Kard rewards API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (keep 1 in sandbox: the simulator's state lives in the process).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Python threads per worker that run requests (connections cost none while they wait).",
)
@click.option(
    "--header-timeout",
    envvar="BFF_HEADER_TIMEOUT",
    default=DEFAULT_HEADER_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.001, 60),
    help="Seconds a client has to send its request line and headers (env BFF_HEADER_TIMEOUT).",
)
@click.option(
    "--body-timeout",
    envvar="BFF_BODY_TIMEOUT",
    default=DEFAULT_BODY_TIMEOUT_SECONDS,
    show_default=True,
    type=click.FloatRange(0.001, 600),
    help="Seconds a client has to send its request body, once its headers are in "
    "(env BFF_BODY_TIMEOUT).",
)
def serve(
    host: str, port: int, workers: int, threads: int, header_timeout: float, body_timeout: float
) -> None:
    """Serve the BFF, configured from the environment."""
    from bff import create_app

    _configure_logging()
    with _stopping_on_config_errors():
        create_app()  # every worker builds its own: this one stops on a configuration error
    click.echo(f"kard-bff serving on http://{host}:{port}", err=True)
    server.serve(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--webhook-key",
    envvar="KARD_WEBHOOK_KEY",
    show_default="sandbox-webhook-key",
    help="Sign webhooks with this key (the first of KARD_WEBHOOK_KEY's, as the BFF expects).",
)
def sandbox(host: str, port: int, webhook_key: str | None) -> None:
    """Serve the Kard simulator alone, for use as KARD_API_URL."""
    from bff.sandbox import DEFAULT_WEBHOOK_KEY, Simulator, create_simulator_app

    _configure_logging()
    click.echo(
        f"Kard simulator on http://{host}:{port} "
        f"(KARD_API_URL=http://{host}:{port}, token URL /v2/auth/token)",
        err=True,
    )
    keys = comma_items(webhook_key or "")
    simulator = Simulator(webhook_key=keys[0] if keys else DEFAULT_WEBHOOK_KEY)
    app = create_simulator_app(simulator)
    _GunicornServer(app, bind=f"{host}:{port}", workers=1, threads=16).run()


@main.group()
def theme() -> None:
    """Encode, decode and try out WebView themes."""


@theme.command("encode")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def encode_theme(file: Path) -> None:
    """Print the base64url value of the theme in FILE (JSON)."""
    click.echo(_encoded_theme(file))


@theme.command("decode")
@click.argument("value_or_url")
def decode_theme(value_or_url: str) -> None:
    """Print the theme JSON of a base64url VALUE_OR_URL (a bare value or a WebView URL)."""
    try:
        decoded = codec.decode(value_or_url)
    except codec.ThemeError as error:
        _fail("invalid theme value", error)
    click.echo(json.dumps(decoded, indent=2, ensure_ascii=False))


@theme.command("url")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="The Kard user ID to mint a token for.")
@click.option(
    "--base-url",
    show_default="BFF_PUBLIC_URL",
    help="Where this BFF serves, for a KARD_WEBVIEW_URL that is a path (the sandbox stand-in).",
)
def theme_url(file: Path, user_id: str, base_url: str | None) -> None:
    """Print a WebView URL for a user, with a fresh token and the theme in FILE."""
    value = _encoded_theme(file)
    app = _build_app(public_url=base_url.rstrip("/") if base_url else None)
    with app.app_context(), _failing_on_kard_errors():
        minted = webview_tokens().get(user_id)
        settings = current.settings()
        webview_url = absolute_webview_url(settings.kard_webview_url, settings.public_url)
    click.echo(session_url(webview_url, minted.token, value))


@main.command()
@click.argument("user_id")
def token(user_id: str) -> None:
    """Print a Kard WebView token for USER_ID (Kard configured from the environment)."""
    app = _build_app()
    with app.app_context(), _failing_on_kard_errors():
        minted = webview_tokens().get(user_id)
    answer = {"token": minted.token, "expiresAt": utc_timestamp(minted.expires_at)}
    click.echo(json.dumps(answer, indent=2))


@main.group()
def outbox() -> None:
    """Watch and drain the durable attribution outbox."""


@outbox.command("status")
def outbox_status() -> None:
    """Print the outbox's depth, oldest age, attempts, last error and rejected chunks."""
    app = _build_app()
    status = delivery(app).outbox.status(now=time.time())
    click.echo(json.dumps(status, indent=2))


@outbox.command("drain")
def outbox_drain() -> None:
    """Try every queued chunk now, once, without waiting out its backoff."""
    app = _build_app()
    sending = delivery(app)
    depth = sending.outbox.status(now=time.time())["depth"]
    with app.app_context(), _failing_on_kard_errors():
        tried = sending.deliver_due(limit=depth, everything=True)
    left = sending.outbox.status(now=time.time())
    click.echo(json.dumps({"tried": tried, "left": left["depth"], "lastError": left["lastError"]}))


@main.group()
def webhooks() -> None:
    """Watch Kard's notifications on their way to the issuer's hook or forward URL."""


@webhooks.command("status")
def webhooks_status() -> None:
    """Print how many notifications wait to be handed on, the oldest's age, and the last error."""
    app = _build_app()
    status = dispatcher(app).inbox.status(now=time.time())
    click.echo(json.dumps(status, indent=2))


@main.group()
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
def history_upload(
    files: tuple[Path, ...], skip_invalid: bool, legacy_user: str | None, compress: bool
) -> None:
    """Check JSONL files, then upload them to Kard.

    Every line of every FILE is checked first; a file with invalid lines is refused (exit 1,
    nothing uploaded) unless --skip-invalid. Kard's failures exit 2.
    """
    app = _build_app()
    with app.app_context(), _failing_on_kard_errors():
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
def history_results(url_or_file: str, original: Path | None) -> None:
    """Map a results file's errors to lines.

    URL_OR_FILE is the fileProcessingResult webhook's downloadUrl, or a saved results file.
    Each error is printed as FILE:LINE: MESSAGE (? when the line is not found). Exit 0 when
    there are no errors, 1 when there are, 2 when the results cannot be read.
    """
    app = _build_app()
    with app.app_context(), _failing_on_kard_errors():
        try:
            found = upload_results.load(url_or_file, kard().download_presigned)
        except upload_results.ResultsUnreadable as error:
            _fail(f"cannot read the results: {error}", code=2)
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
def _failing_on_kard_errors() -> Iterator[None]:
    """Kard's failures, and files that cannot be read, as one line and exit code 2."""
    try:
        yield
    except KardUnreachable as error:
        settings = current.settings()
        if settings.sandbox and settings.kard_api_url == _running_sandbox(settings.public_url):
            _fail(
                f"no sandbox is serving at {settings.public_url}; start it with `make run`, "
                "or set PORT or BFF_PUBLIC_URL to where it serves",
                code=2,
            )
        _fail(f"{error.title}: {error.errors[0]['detail']}", code=2)
    except UpstreamError as error:
        first = error.errors[0]
        said = f"{first.get('title') or error.title}: {first.get('detail') or ''}".rstrip(": ")
        if isinstance(error, UpstreamRejected):
            said = f"Kard refused the request ({error.status}): {said}"
        _fail(said, code=2)
    except OSError as error:
        _fail(f"{error.filename or 'file'}: {error.strerror or error}", code=2)


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


def _encoded_theme(file: Path) -> str:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{file}: cannot read it ({error})")
    except json.JSONDecodeError as error:
        _fail(f"{file}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})")
    try:
        return codec.encode(raw)[0]
    except codec.ThemeError as error:
        _fail(f"{file}: invalid theme", error)


def _fail(message: str, error: codec.ThemeError | None = None, *, code: int = 1) -> NoReturn:
    lines = [f"kard-bff: {message}"]
    if error is not None:
        lines += [f"  {problem.pointer or '/'}: {problem.detail}" for problem in error.problems]
    click.echo("\n".join(lines), err=True)
    sys.exit(code)


def _build_app(*, public_url: str | None = None) -> Flask:
    """The BFF as the commands use it. In sandbox without KARD_API_URL, Kard is the simulator of
    the BFF serving at BFF_PUBLIC_URL (or `public_url`): one of this process's own would know
    nothing of the running sandbox's users, tokens, uploads or outbox."""
    from bff import create_app

    with _stopping_on_config_errors():
        settings = load_settings()
    if public_url is not None:
        settings = dataclasses.replace(settings, public_url=public_url)
    if settings.kard_api_url is None:
        settings = dataclasses.replace(settings, kard_api_url=_running_sandbox(settings.public_url))
    with _stopping_on_config_errors():
        return create_app(settings)


def _running_sandbox(public_url: str | None) -> str:
    return f"{public_url}/sandbox/kard"


@contextmanager
def _stopping_on_config_errors() -> Iterator[None]:
    try:
        yield
    except ConfigError as error:
        sys.exit(f"kard-bff: configuration error: {error}")


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact_logs()


class _GunicornServer(BaseApplication):
    """Gunicorn running an app object we already built, with threaded workers."""

    def __init__(self, app: Flask, **options: object):
        self._app = app
        self._options = {
            "worker_class": "gthread",
            "accesslog": "-",
            "logger_class": GunicornLogger,
            # No runtime control socket: one path ($HOME/.gunicorn/gunicorn.ctl) would be shared,
            # and taken over, by every server on the machine.
            "control_socket_disable": True,
            **options,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


if __name__ == "__main__":
    main()
