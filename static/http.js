// The pages' requests to the BFF: JSON in and out, and failures told in words a person can act on.

/** A failed request: no answer at all (`status` 0), or an answer in the JSON error shape. */
export class RequestError extends Error {
  constructor(message, { status = 0, errors = [] } = {}) {
    super(message);
    this.name = "RequestError";
    this.status = status;
    this.errors = errors;
  }
}

/**
 * The path of a BFF endpoint ("/api/v1/themes") wherever the BFF is mounted: its scripts are
 * served from `<prefix>/static/`, so the prefix is the one this module was loaded under.
 */
export function bffPath(path) {
  return new URL(`..${path}`, import.meta.url).pathname;
}

/** What to say when the BFF does not answer at all. */
export function unreachableMessage() {
  return `The BFF at ${window.location.origin} cannot be reached. Is \`make run\` running?`;
}

/** The errors of the JSON error shape as one line: "Title: detail" for each. */
export function errorsText(errors) {
  return errors
    .map(({ title, detail }) => (title && detail && title !== detail ? `${title}: ${detail}` : title || detail))
    .filter(Boolean)
    .join(" ");
}

/** The errors as one line of their details alone, for a place that already says what failed. */
export function detailsText(errors) {
  return errors
    .map(({ title, detail }) => detail || title)
    .filter(Boolean)
    .join(" ");
}

/**
 * Send a request with an optional JSON body and bearer token; answer the JSON body it gets back.
 * A request cancelled through `signal` rejects with the signal's reason, never a RequestError.
 */
export async function requestJson(url, { method = "GET", body, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    response = await fetch(url, { method, headers, body: payload, signal });
  } catch {
    signal?.throwIfAborted();
    throw new RequestError(unreachableMessage());
  }
  const data = await response.json().catch(() => ({}));
  signal?.throwIfAborted();
  if (!response.ok) {
    const errors = Array.isArray(data?.errors) ? data.errors : [];
    const message = errorsText(errors) || `The BFF answered ${response.status}.`;
    throw new RequestError(message, { status: response.status, errors });
  }
  return data;
}
