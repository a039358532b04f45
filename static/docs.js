// The API reference: Swagger UI (static/vendor/swagger-ui/, copied in by `make swagger-ui`)
// renders this service's OpenAPI document, within the pages' Content Security Policy: it is
// started here, not by an inline script, and with `validatorUrl: null` it sends the document to
// no online validator (a request connect-src 'self' would refuse, as a console error).

/* global SwaggerUIBundle */

import { bffPath } from "./http.js";

// Swagger UI's own dark theme is a class on <html>; follow the system's, like the other pages.
const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");
const followColorScheme = () =>
  document.documentElement.classList.toggle("dark-mode", darkScheme.matches);
followColorScheme();
darkScheme.addEventListener("change", followColorScheme);

SwaggerUIBundle({
  url: bffPath("/openapi.json"),
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list", // every operation shows, folded
  validatorUrl: null,
});
