"""The two rewrites any proxy in front of Kard must make, shared by the bench's reference proxies.

Kard's `links` (self, next, prev) point at the proxy's endpoint with Kard's query, and every
`components.cta.action.url` under this user's Kard path becomes `/api/v1/<rest>`, in `data` and
in `included`. No checks: the bench's upstream answers are known to be well formed.
"""

ORGANIZATION, USER = "org-sandbox", "bench-user"
USER_PREFIX = f"/v2/issuers/{ORGANIZATION}/users/{USER}/"
# The sandbox's default client credentials: what the simulator takes unless told otherwise.
CREDENTIALS = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
API_PREFIX = "/api/v1/"
# The proxied endpoints: /api/v1/<name> -> the Kard path under USER_PREFIX.
UPSTREAM_PATHS = {"offers": "offers", "locations": "locations", "rewards": "earned-rewards"}
LINK_NAMES = ("self", "next", "prev")


def rewrite(document: dict, endpoint: str) -> dict:
    """Rewrite `document` (a parsed Kard answer to /api/v1/`endpoint`) in place; return it."""
    links = document.get("links")
    if links:
        for name in LINK_NAMES:
            link = links.get(name)
            if link:
                links[name] = f"{API_PREFIX}{endpoint}?{link.partition('?')[2]}"
    for group in (document.get("data"), document.get("included")):
        for resource in group or ():
            cta = resource.get("attributes", {}).get("components", {}).get("cta")
            url = cta["action"]["url"] if cta else ""
            if url.startswith(USER_PREFIX):
                cta["action"]["url"] = API_PREFIX + url[len(USER_PREFIX) :]
    return document
