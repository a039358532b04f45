"""The Kard API client package: the only code that talks to Kard."""

from bff.kard.client import KardClient, KardResponse

__all__ = ["KardClient", "KardResponse"]
