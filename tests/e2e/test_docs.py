"""The API reference (/docs) in Chromium: Swagger UI renders the service's own OpenAPI document,
every operation of it, within the pages' Content Security Policy."""

import httpx
from playwright.sync_api import Page, expect

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Kept by the page from its first script on: a violation the console might not show is seen too.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    """Each operation of an OpenAPI document by (METHOD, path); a path item holds other keys too."""
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _first_with(operations: dict[tuple[str, str], dict], key: str) -> tuple[str, str]:
    """The first operation that has `key` (such as "parameters" or "requestBody")."""
    return next(name for name, operation in operations.items() if key in operation)


def _shown_operations(page: Page) -> list[tuple[str, str]]:
    """Each operation Swagger UI shows, as (METHOD, path): its method label and its `data-path`
    (the link text has zero-width spaces after each slash, for line breaks)."""
    blocks = page.locator(".opblock")
    shown = blocks.evaluate_all(
        """blocks => blocks.map(block => [
          block.querySelector(".opblock-summary-method").textContent,
          block.querySelector(".opblock-summary-path").dataset.path,
        ])"""
    )
    return [(method, path) for method, path in shown]


def test_the_api_reference_shows_every_operation_and_breaks_no_policy(
    page, live_bff, artifacts, problems
):
    operations = _operations(httpx.get(live_bff + "/openapi.json").json())
    assert operations  # else the page would have nothing to show and the test prove nothing
    page.add_init_script(RECORD_CSP_VIOLATIONS)

    page.goto(live_bff + "/docs")
    swagger_ui = page.locator("#swagger-ui .swagger-ui")
    expect(swagger_ui, "no Swagger UI at /docs: `make swagger-ui` copies it in").to_be_attached()
    expect(page.locator(".opblock").first).to_be_visible()
    shown = _shown_operations(page)
    # The same set (an operation with two tags would show twice, in each).
    assert set(shown) == set(operations)

    # Open an operation with parameters, one with a body, and the schemas: what they render
    # (forms, examples, highlighted JSON) must keep to the policy too. Not all of them: Swagger UI
    # takes most of a second to open each.
    for method, path in {
        _first_with(operations, "parameters"),
        _first_with(operations, "requestBody"),
    }:
        block = (
            page.locator(f".opblock-{method.lower()}")
            .filter(has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))
            .first
        )
        block.locator(".opblock-summary-control").click()
        expect(block.locator(".responses-table").first).to_be_visible()
    schemas = page.locator("section.models")  # open by default; OpenAPI 3.1 as JSON Schema 2020-12
    schemas.locator(".json-schema-2020-12-expand-deep-button").first.click()
    opened = ".json-schema-2020-12-body:not(.json-schema-2020-12-body--collapsed)"
    expect(schemas.locator(opened).first).to_be_visible()
    page.screenshot(path=artifacts / "docs.png")
    assert page.evaluate("window.cspViolations") == []
