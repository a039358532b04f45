"""Query parameter rules of the Kard endpoints the BFF proxies, checked before going upstream.

Each endpoint's parameters are a table of `Param`s. `check_query` refuses unknown parameters,
single-valued ones given twice, and bad values, with a 400 naming the parameter; it returns the
pairs unchanged, in order, so repeated parameters stay repeated.
"""

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bff.errors import BadRequest
from bff.kard.vocabulary import (
    CATEGORIES,
    COMPONENTS,
    LOCATION_SORTS,
    OFFER_SORTS,
    PURCHASE_CHANNELS,
    STATES,
)

Pairs = list[tuple[str, str]]
Check = Callable[[str, str], str | None]  # (name, value) -> what is wrong, or None

MAX_PAGE_SIZE = 100
MAX_TEXT_LENGTH = 200
MAX_CURSOR_LENGTH = 512
_ZIP_CODE = re.compile(r"^\d{5}(-\d{4})?$")


@dataclass(frozen=True, eq=False)
class Rule:
    """How a parameter's value is checked (`problem`), and the JSON Schema that says the same
    to readers of the API description (bff.openapi): both made from the same arguments."""

    problem: Check
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Param:
    """One query parameter: its rule, whether it may be given more than once, and what it is."""

    name: str
    rule: Rule
    repeatable: bool = False
    description: str = ""


def integer(low: int, high: int | None = None) -> Rule:
    """A whole number in `low..high`."""

    def problem(name: str, value: str) -> str | None:
        if not re.fullmatch(r"-?\d{1,10}", value):
            return f"{name} must be a whole number, not {value!r}"
        if int(value) < low or (high is not None and int(value) > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            return f"{name} must be {bounds}, not {value}"
        return None

    bounds = {"minimum": low} if high is None else {"minimum": low, "maximum": high}
    return Rule(problem, {"type": "integer", **bounds})


def number(low: float, high: float) -> Rule:
    """A finite decimal number in `low..high`."""

    def problem(name: str, value: str) -> str | None:
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if not math.isfinite(parsed) or not re.fullmatch(r"[-+]?[\d.]+(e[-+]?\d+)?", value, re.I):
            return f"{name} must be a number, not {value!r}"
        if not low <= parsed <= high:
            return f"{name} must be from {low:g} to {high:g}, not {value}"
        return None

    return Rule(problem, {"type": "number", "minimum": low, "maximum": high})


def _boolean(name: str, value: str) -> str | None:
    return None if value in ("true", "false") else f"{name} must be true or false, not {value!r}"


boolean = Rule(_boolean, {"type": "boolean"})


def one_of(allowed: Sequence[str]) -> Rule:
    """Exactly one of `allowed`."""

    def problem(name: str, value: str) -> str | None:
        if value not in allowed:
            choices = ", ".join(f"'{choice}'" for choice in allowed)
            return f"{name} must be one of {choices}; {value!r} is not"
        return None

    return Rule(problem, {"type": "string", "enum": list(allowed)})


def each_of(allowed: Sequence[str]) -> Rule:
    """A comma-separated list, each item one of `allowed`. Described as one item: the
    parameters that take it are repeatable, and the description says a list is taken too."""
    item = one_of(allowed)

    def problem(name: str, value: str) -> str | None:
        for part in value.split(","):
            if found := item.problem(name, part.strip()):
                return found
        return None

    return Rule(problem, item.schema)


def _text(name: str, value: str) -> str | None:
    if len(value) > MAX_TEXT_LENGTH or not value.isprintable():
        return f"{name} must be printable text of at most {MAX_TEXT_LENGTH} characters"
    return None


text = Rule(_text, {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH})


def _cursor(name: str, value: str) -> str | None:
    if len(value) > MAX_CURSOR_LENGTH or not value.isprintable() or " " in value:
        return f"{name} must be a cursor from a links.next or links.prev URL"
    return None


cursor = Rule(_cursor, {"type": "string", "pattern": r"^\S+$", "maxLength": MAX_CURSOR_LENGTH})


def _zip_code(name: str, value: str) -> str | None:
    return None if _ZIP_CODE.match(value) else f"{name} must be a US ZIP code like 10001"


zip_code = Rule(_zip_code, {"type": "string", "pattern": _ZIP_CODE.pattern})


_LIST = "; several values may also be given comma-separated in one"
_PAGE = (
    Param("page[size]", integer(1, MAX_PAGE_SIZE), description="Resources per page."),
    Param(
        "page[after]",
        cursor,
        description="The cursor of `links.next`; not with page[before].",
    ),
    Param("page[before]", cursor, description="The cursor of `links.prev`."),
)
_COMPONENTS = Param(
    "supportedComponents",
    each_of(COMPONENTS),
    repeatable=True,
    description="UI components to include in each offer's `components`; when none is named,"
    f" the deployment's BFF_SUPPORTED_COMPONENTS are asked for{_LIST}.",
)

OFFERS = (
    *_PAGE,
    Param("filter[search]", text, description="Case-insensitive search of merchant names."),
    Param(
        "filter[purchaseChannel]",
        each_of(PURCHASE_CHANNELS),
        repeatable=True,
        description=f"Purchase channels{_LIST}.",
    ),
    Param("filter[category]", one_of(CATEGORIES), description="The merchant's category."),
    Param("filter[isTargeted]", boolean, description="Only offers targeted at the user, or not."),
    Param("sort", each_of(OFFER_SORTS), repeatable=True, description=f"Sort fields{_LIST}."),
    Param(
        "include",
        each_of(("categories",)),
        repeatable=True,
        description=f"Related resources to include{_LIST}.",
    ),
    _COMPONENTS,
)

LOCATIONS = (
    *_PAGE,
    Param("filter[name]", text, description="The location's name."),
    Param("filter[city]", text, description="The location's city."),
    Param("filter[zipCode]", zip_code, description="The location's US ZIP code."),
    Param("filter[state]", one_of(STATES), description="The location's US state or territory."),
    Param("filter[category]", one_of(CATEGORIES), description="The merchant's category."),
    Param(
        "filter[latitude]",
        number(-90, 90),
        description="Latitude of the point to search around; needs filter[longitude].",
    ),
    Param(
        "filter[longitude]",
        number(-180, 180),
        description="Longitude of the point to search around; needs filter[latitude].",
    ),
    Param(
        "filter[radius]",
        integer(1),
        description="Search radius around the point; needs the point.",
    ),
    Param("sort", each_of(LOCATION_SORTS), repeatable=True, description=f"Sort fields{_LIST}."),
    Param(
        "include",
        each_of(("offers", "categories")),
        repeatable=True,
        description="Related resources to include; `offers` is added whenever components are"
        f" asked for (Kard sends none otherwise){_LIST}.",
    ),
    _COMPONENTS,
)

OFFER_ACTION = (
    Param(
        "include",
        each_of(("offer",)),
        repeatable=True,
        description="Always `offer`: the updated offer comes back in `included`.",
    ),
    _COMPONENTS,
)

EARNED_REWARDS = (
    *_PAGE,
    Param(
        "include",
        each_of(("merchant", "offer")),
        repeatable=True,
        description=f"Related resources to include{_LIST}.",
    ),
)


def check_query(pairs: Pairs, params: Sequence[Param]) -> Pairs:
    """Return `pairs` unchanged when every parameter is known and valid; else raise 400."""
    by_name = {param.name: param for param in params}
    counts = Counter(name for name, _ in pairs)
    for name, value in pairs:
        param = by_name.get(name)
        if param is None:
            raise BadRequest(
                f"Unknown query parameter {name!r}; allowed: {', '.join(by_name)}",
                parameter=name,
            )
        if counts[name] > 1 and not param.repeatable:
            raise BadRequest(f"{name} may be given only once", parameter=name)
        if not value.strip():
            raise BadRequest(f"{name} must not be empty", parameter=name)
        if problem := param.rule.problem(name, value):
            raise BadRequest(problem, parameter=name)
    _check_together(counts)
    return pairs


def _check_together(counts: Counter[str]) -> None:
    """Rules that span parameters: a point needs both coordinates, a radius needs a point."""
    if counts["page[after]"] and counts["page[before]"]:
        raise BadRequest("Give page[after] or page[before], not both", parameter="page[before]")
    latitude, longitude = "filter[latitude]", "filter[longitude]"
    if counts[latitude] and not counts[longitude]:
        raise BadRequest(f"{longitude} is required with {latitude}", parameter=longitude)
    if counts[longitude] and not counts[latitude]:
        raise BadRequest(f"{latitude} is required with {longitude}", parameter=latitude)
    if counts["filter[radius]"] and not counts["filter[latitude]"]:
        raise BadRequest(
            "filter[radius] needs filter[latitude] and filter[longitude]",
            parameter="filter[radius]",
        )


def with_defaults(pairs: Pairs, components: Sequence[str], *, locations: bool = False) -> Pairs:
    """Add the configured `supportedComponents` when none are named; for locations, make sure
    `include` has `offers` whenever components are asked for (Kard returns none otherwise)."""
    result = list(pairs)
    if not any(name == "supportedComponents" for name, _ in result):
        result.extend(("supportedComponents", component) for component in components)
    asks_components = any(name == "supportedComponents" for name, _ in result)
    if locations and asks_components:
        _include(result, "offers")
    return result


def _include(pairs: Pairs, resource: str) -> None:
    """Make `include` name `resource`, adding it to the CSV that is there (Kard's form)."""
    includes = [index for index, (name, _) in enumerate(pairs) if name == "include"]
    if any(resource in (item.strip() for item in pairs[i][1].split(",")) for i in includes):
        return
    if includes:
        last = includes[-1]
        pairs[last] = ("include", f"{pairs[last][1]},{resource}")
    else:
        pairs.append(("include", resource))
