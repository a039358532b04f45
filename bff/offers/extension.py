"""The offers part of the app: the call-to-action forms its answers hand out."""

from flask import Flask, current_app

from bff.offers.cta import CtaForms


def init_app(app: Flask) -> None:
    """Give the app its CTA forms, learned from the answers it rewrites."""
    app.extensions["cta_forms"] = CtaForms()


def cta_forms() -> CtaForms:
    """The call-to-action forms the current app serves."""
    return current_app.extensions["cta_forms"]
