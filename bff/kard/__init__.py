"""The Kard API client package: the only code that talks to Kard."""

from bff.kard.client import KardClient, KardResponse, KardUnreachable

__all__ = ["KardClient", "KardResponse", "KardUnreachable"]
