"""The offers part of the app: the signer of the call-to-action URLs its answers hand out."""

from flask import Flask

from bff.current import parts, url_prefix
from bff.fleet import extension as fleet
from bff.offers.cta import CtaUrls


def init_app(app: Flask) -> None:
    """Give the app its CTA URL signer, with the app's keys."""
    parts(app)["cta_urls"] = CtaUrls(fleet.keys(app), url_prefix=url_prefix(app))


def cta_urls() -> CtaUrls:
    """The current app's call-to-action URL signer."""
    return parts()["cta_urls"]
