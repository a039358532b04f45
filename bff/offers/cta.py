"""The call-to-action forms the BFF serves: the ones it emits, and nothing else.

Activate and boost are always served. Any other CTA form that Kard's answers carry under the user
(say `POST offers/{id}/renew`) is learned when the BFF rewrites it, so the app can follow it.
A path that matches no form is a 404 and nothing goes upstream.
"""

import re
import threading
from collections.abc import Iterable

from bff.offers.rewrite import EmittedCta

Form = tuple[str, tuple[str, ...]]  # (method, path segments with "{id}" for the resource ID)

ID_PLACEHOLDER = "{id}"
MAX_LEARNED_FORMS = 64
# Kard's IDs are Mongo ObjectIds; this admits any plain ID while keeping paths unbendable.
RESOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BUILT_IN_ACTIONS = ("activate", "boost")
BUILT_IN_FORMS: frozenset[Form] = frozenset(
    ("POST", ("offers", ID_PLACEHOLDER, action)) for action in BUILT_IN_ACTIONS
)


def is_resource_id(value: str) -> bool:
    """Whether `value` has the shape of a Kard resource ID and so is safe in a path."""
    return bool(RESOURCE_ID.match(value))


class CtaForms:
    """The CTA forms this process has emitted to apps (bounded; shared by all users)."""

    def __init__(self) -> None:
        self._forms: set[Form] = set(BUILT_IN_FORMS)
        self._lock = threading.Lock()

    def learn(self, emitted: Iterable[EmittedCta]) -> None:
        """Remember the forms of CTAs just handed to an app."""
        for cta in emitted:
            if _is_built_in(cta):
                continue  # the common case, decided without splitting paths
            form = _form_of(cta)
            if form is None or form in self._forms:
                continue
            with self._lock:
                if len(self._forms) < len(BUILT_IN_FORMS) + MAX_LEARNED_FORMS:
                    self._forms.add(form)

    def serves(self, method: str, rest: str) -> bool:
        """Whether `method rest` (the path after /api/v1/) is a form the BFF emitted."""
        segments = tuple(rest.split("/"))
        return any(
            form_method == method and _matches(form_segments, segments)
            for form_method, form_segments in self._forms
        )


def _is_built_in(cta: EmittedCta) -> bool:
    prefix = f"offers/{cta.resource_id}/"
    return (
        cta.method == "POST"
        and cta.rest.startswith(prefix)
        and cta.rest[len(prefix) :] in BUILT_IN_ACTIONS
    )


def _form_of(cta: EmittedCta) -> Form | None:
    segments = tuple(ID_PLACEHOLDER if s == cta.resource_id else s for s in cta.rest.split("/"))
    if ID_PLACEHOLDER not in segments or not all(map(is_resource_id, _literals(segments))):
        return None
    return cta.method, segments


def _literals(segments: tuple[str, ...]) -> list[str]:
    return [segment for segment in segments if segment != ID_PLACEHOLDER]


def _matches(form: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    return len(form) == len(segments) and all(
        want == got or (want == ID_PLACEHOLDER and is_resource_id(got))
        for want, got in zip(form, segments, strict=True)
    )
