"""WebView themes: validate, normalize, encode to base64url, and decode. Pure: no Flask, no I/O.

A theme is the object of Kard's WebView guide::

    {"theme": "system" | "light" | "dark",
     "styles": {"light": {<10 color tokens>}, "dark": {<10 color tokens>},
                "layout": {"radius", "chipRadius", "imageRadius", "cardRadius"}},
     "labels": {"rewardsTitle", "nearbyOffersTitle", "offersTitle"},
     "layout": {"showMap": true | false}}

Normalizing trims strings and drops empty groups; it keeps the keys in the order given, so the
encoded value is exactly what the guide's `btoa(JSON.stringify(theme))` encoder gives for the same
object. The JSON is compact and ASCII-only (other characters as `\\uXXXX`), so any decoder reads it.
"""

import base64
import binascii
import difflib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import tinycss2
import tinycss2.color4

from bff.errors import MAX_REPORTED_ERRORS
from bff.pointers import escape

MODES = ("system", "light", "dark")
COLOR_TOKENS = (
    "background",
    "primary",
    "buttonPrimaryTextColor",
    "secondary",
    "buttonSecondaryTextColor",
    "textPrimary",
    "textSecondary",
    "cardBackgroundColor",
    "border",
    "linkColor",
)
LAYOUT_TOKENS = ("radius", "chipRadius", "imageRadius", "cardRadius")
LABELS = ("rewardsTitle", "nearbyOffersTitle", "offersTitle")
TOP_LEVEL = ("theme", "styles", "labels", "layout")
STYLE_GROUPS = ("light", "dark", "layout")
LAYOUT_OPTIONS = ("showMap",)
MAX_LABEL_LENGTH = 60
MAX_VALUE_LENGTH = 100
# A theme rides in a URL: keep the encoded value well under what browsers and proxies take.
MAX_ENCODED_LENGTH = 4096
CSS_LENGTH_UNITS = frozenset(
    (
        *("px", "cm", "mm", "q", "in", "pt", "pc"),
        *("em", "rem", "ex", "rex", "cap", "rcap", "ch", "rch", "ic", "ric", "lh", "rlh"),
        *("vw", "vh", "vi", "vb", "vmin", "vmax"),
        *(f"{size}{axis}" for size in "sld" for axis in ("vw", "vh", "vi", "vb", "vmin", "vmax")),
        *("cqw", "cqh", "cqi", "cqb", "cqmin", "cqmax"),
    )
)
# Colors and lengths never need these; refusing them keeps comments and markup out of CSS.
_UNSAFE_CSS = re.compile(r"/\*|[^A-Za-z0-9#%.,()/+\- ]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a theme, and where (a JSON pointer into it, or into the document it
    came in)."""

    pointer: str
    detail: str


class Problems:
    """The problems found so far: the first MAX_REPORTED_ERRORS described, the rest counted."""

    def __init__(self) -> None:
        self.described: list[Problem] = []
        self.unreported = 0

    @property
    def full(self) -> bool:
        """Whether further problems are only counted."""
        return len(self.described) >= MAX_REPORTED_ERRORS

    def append(self, problem: Problem) -> None:
        """Describe `problem`, or count it once the bound is reached."""
        if self.full:
            self.unreported += 1
        else:
            self.described.append(problem)


class ThemeError(ValueError):
    """A theme (or an encoded value) is invalid; `problems` has one entry per bad field, up to
    MAX_REPORTED_ERRORS, and `unreported` counts the others."""

    def __init__(self, problems: list[Problem], unreported: int = 0):
        super().__init__("; ".join(f"{p.pointer or '/'}: {p.detail}" for p in problems))
        self.problems = problems
        self.unreported = unreported


def normalize(theme: Any) -> dict[str, Any]:
    """Validate `theme`; return it trimmed, without empty groups. Raise `ThemeError`."""
    return _normalized(theme, "")


def encode(theme: Any, *, pointer: str = "") -> tuple[str, dict[str, Any]]:
    """Validate and normalize `theme`; return its base64url value and the normalized theme.

    `pointer` is where `theme` sits in the document it came in: its problems point under it."""
    normalized = _normalized(theme, pointer)
    value = _base64url(_compact_json(normalized))
    if len(value) > MAX_ENCODED_LENGTH:
        detail = f"The encoded theme is {len(value)} characters; at most {MAX_ENCODED_LENGTH}."
        raise ThemeError([Problem(pointer, detail)])
    return value, normalized


def decode(value_or_url: str, *, pointer: str = "") -> dict[str, Any]:
    """Read a base64url theme (bare, or the `theme` of a WebView URL; padded or not) and return
    the normalized theme. Raise `ThemeError` for anything that is not a valid theme.

    `pointer` is where the value sits in the document it came in: a problem with the value, or
    with the whole theme, points at it; the theme's fields have no place there, so a problem
    with one of them points into the theme."""
    value = _theme_value(value_or_url.strip(), pointer)
    if len(value) > MAX_ENCODED_LENGTH + 2:
        detail = f"The theme value is longer than {MAX_ENCODED_LENGTH}."
        raise ThemeError([Problem(pointer, detail)])
    if not _BASE64URL.match(value):
        detail = "The theme value is not base64url (A-Z a-z 0-9 - _)."
        raise ThemeError([Problem(pointer, detail)])
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        theme = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ThemeError([Problem(pointer, "The theme value does not decode to JSON.")]) from exc
    return _normalized(theme, pointer, encoded=True)


def _normalized(theme: Any, pointer: str, *, encoded: bool = False) -> dict[str, Any]:
    """`normalize`, its problems placed at `pointer` (see `encode` and `decode`)."""
    problems = Problems()
    normalized = _theme(theme, problems)
    if problems.described:
        raise ThemeError(
            [_placed(p, pointer, encoded) for p in problems.described], problems.unreported
        )
    return normalized


def _placed(problem: Problem, pointer: str, encoded: bool) -> Problem:
    if encoded and problem.pointer:  # a field of an encoded theme: no place in the document
        return problem
    return Problem(pointer + problem.pointer, problem.detail)


def _theme_value(value_or_url: str, pointer: str) -> str:
    if "://" not in value_or_url and "?" not in value_or_url:
        return value_or_url
    themes = parse_qs(urlsplit(value_or_url).query).get("theme")
    if not themes:
        raise ThemeError([Problem(pointer, "The URL has no theme parameter.")])
    return themes[-1]


def _compact_json(theme: dict[str, Any]) -> bytes:
    return json.dumps(theme, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# Validation: each function checks one level and appends its problems.


def _theme(theme: Any, problems: Problems) -> dict[str, Any]:
    if not isinstance(theme, dict):
        problems.append(Problem("", "A theme must be a JSON object."))
        return {}
    result: dict[str, Any] = {}
    for key, value in _known_items(theme, TOP_LEVEL, "", problems):
        if key == "theme":
            checked = _mode(value, "/theme", problems)
        elif key == "styles":
            checked = _styles(value, problems)
        elif key == "labels":
            checked = _group(value, "/labels", LABELS, _label, problems)
        else:
            checked = _group(value, "/layout", LAYOUT_OPTIONS, _boolean, problems)
        if checked not in (None, {}):
            result[key] = checked
    return result


def _styles(styles: Any, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(styles, dict):
        problems.append(Problem("/styles", "styles must be an object with light, dark, layout."))
        return None
    result = {}
    for group, tokens in _known_items(styles, STYLE_GROUPS, "/styles", problems):
        names, check = (LAYOUT_TOKENS, _length) if group == "layout" else (COLOR_TOKENS, _color)
        checked = _group(tokens, f"/styles/{group}", names, check, problems)
        if checked:
            result[group] = checked
    return result


def _group(value: Any, pointer: str, names: tuple[str, ...], check, problems: Problems):
    if not isinstance(value, dict):
        problems.append(Problem(pointer, f"{pointer[1:]} must be an object."))
        return None
    result = {}
    for key, item in _known_items(value, names, pointer, problems):
        checked = check(item, f"{pointer}/{key}", problems)
        if checked is not None:
            result[key] = checked
    return result


def _known_items(value: dict[str, Any], allowed: tuple[str, ...], pointer: str, problems: Problems):
    """The items of `value` whose keys are allowed; a problem for each other key."""
    for key, item in value.items():
        if key in allowed:
            yield key, item
            continue
        if problems.full:  # counted only: a did-you-mean lookup per key is what costs
            problems.unreported += 1
            continue
        hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        detail = f"Unknown key {key!r}; allowed: {', '.join(allowed)}.{did_you_mean}"
        problems.append(Problem(f"{pointer}/{escape(key)}", detail))


def _mode(value: Any, pointer: str, problems: Problems) -> str | None:
    if value not in MODES:
        problems.append(Problem(pointer, f"theme must be one of {', '.join(MODES)}."))
        return None
    return value


def _color(value: Any, pointer: str, problems: Problems) -> str | None:
    text = _css_text(value, pointer, "a CSS color", problems)
    if text is None:
        return None
    parsed = tinycss2.color4.parse_color(text)
    if parsed is None or isinstance(parsed, str):  # None: not a color; str: currentcolor
        detail = f"{text!r} is not a CSS color (hex, rgb(), hsl(), oklch(), a name, ...)."
        problems.append(Problem(pointer, detail))
        return None
    return text


def _length(value: Any, pointer: str, problems: Problems) -> str | None:
    text = _css_text(value, pointer, "a CSS length", problems)
    if text is None:
        return None
    token = tinycss2.parse_one_component_value(text)
    is_zero = token.type == "number" and token.value == 0
    is_length = token.type == "dimension" and token.unit.lower() in CSS_LENGTH_UNITS
    if not (is_zero or is_length or token.type == "percentage"):
        problems.append(Problem(pointer, f"{text!r} is not a CSS length like 8px, 0.5rem or 50%."))
        return None
    if token.value < 0:
        problems.append(Problem(pointer, f"{text!r} is negative; lengths here are 0 or more."))
        return None
    return text


def _css_text(value: Any, pointer: str, what: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(pointer, f"Expected {what} as a string."))
        return None
    text = value.strip()
    if len(text) > MAX_VALUE_LENGTH or _UNSAFE_CSS.search(text):
        problems.append(Problem(pointer, f"{text[:40]!r} is not {what}."))
        return None
    return text


def _label(value: Any, pointer: str, problems: Problems) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem(pointer, "A label must be a string."))
        return None
    text = value.strip()
    if not 1 <= len(text) <= MAX_LABEL_LENGTH:
        detail = f"A label must be 1 to {MAX_LABEL_LENGTH} characters after trimming."
        problems.append(Problem(pointer, detail))
        return None
    if any(_is_control(character) for character in text) or "<" in text or ">" in text:
        detail = "A label must be plain text: no control characters, no < or >."
        problems.append(Problem(pointer, detail))
        return None
    return text


def _boolean(value: Any, pointer: str, problems: Problems) -> bool | None:
    if not isinstance(value, bool):
        problems.append(Problem(pointer, "showMap must be true or false."))
        return None
    return value


def _is_control(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in _BIDI_CONTROLS
