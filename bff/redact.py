"""Credentials out of every URL this service prints: log lines, status output, stored errors.

A URL's userinfo becomes `***`, and so does the value of every query (and fragment) parameter
but the few of this service's own API that never carry a secret (`page[size]`, `sort`, `theme`,
...). Deny by default: a WebView `token`, a presigned URL's `X-Amz-Signature` or a forward URL's
`apikey` is hidden whatever its name, and so is a bare `?value`.
"""

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from gunicorn import glogging

REDACTED = "***"
VISIBLE_PARAMETERS = frozenset(
    {"page[size]", "page[after]", "page[before]", "sort", "include", "supportedComponents", "theme"}
)
VISIBLE_PREFIXES = ("filter[",)
# The loggers that print URLs: the dev server's request lines, httpx's requests, gunicorn's lines.
# A logger's filters are not its children's.
URL_LOGGERS = ("werkzeug", "httpx", "gunicorn.access", "gunicorn.error")

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_PARAMETER = re.compile(r"[^&;]+")
_WORD = re.compile(r"[^\s'\"<>\x1b]+")  # a URL ends at a space, a quote or a terminal colour


def redact_url(url: str) -> str:
    """Return `url` with its userinfo and its query and fragment values as ***."""
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    rest = _USERINFO.sub(rf"\1{REDACTED}@", rest)
    return rest + question_mark + redact_query(query) + hash_mark + redact_query(fragment)


def redact_query(query: str) -> str:
    """Return a query string with every value but those of VISIBLE_PARAMETERS as ***."""
    return _PARAMETER.sub(lambda match: _redact_parameter(match.group()), query)


def redact_text(text: str) -> str:
    """Return `text` with every URL in it (absolute, or a path with a query) redacted."""
    return _WORD.sub(lambda match: _redact_word(match.group()), text)


class RedactingFilter(logging.Filter):
    """Rewrite each record's message with the URLs in it redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format: the handler reports it; a filter raises
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class GunicornLogger(glogging.Logger):
    """Gunicorn's logger with every access-log atom redacted (`%(r)s`, `%(q)s`, `%(f)s`, ...)."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: _redact_atom(name, value) for name, value in atoms.items()}


def redact_logs() -> None:
    """Redact the URLs in what the URL_LOGGERS print, whoever configured their handlers."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(known, RedactingFilter) for known in logger.filters):
            logger.addFilter(RedactingFilter())


def _redact_atom(name: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    # A bare query string has no `?` to be recognised by.
    return redact_query(value) if name in ("q", "{query_string}e") else redact_text(value)


def _redact_word(word: str) -> str:
    return redact_url(word) if "?" in word or "://" in word else word


def _redact_parameter(parameter: str) -> str:
    name, equals, value = parameter.partition("=")
    if not equals:
        return REDACTED  # a bare `?value` can be a secret as well as a flag
    if not value or _visible(unquote_plus(name)):
        return parameter
    return f"{name}={REDACTED}"


def _visible(name: str) -> bool:
    return name in VISIBLE_PARAMETERS or name.startswith(VISIBLE_PREFIXES)
