// The theme studio: edit a WebView theme, preview it, validate and encode it through the BFF.

import { bffPath, detailsText, requestJson } from "./http.js";
import { buildForm, clearErrors, clearFieldError, fillTheme, readTheme, setFieldError, showErrors } from "./studio/form.js";
import { buildPreviews, contrastChecks, renderPreview, shownModes } from "./studio/preview.js";
import { AA } from "./theme-schema.js";

const API = bffPath("/api/v1/themes");
const DEBOUNCE_MS = 200;
const OUTPUTS = ["encoded-value", "webview-url", "theme-json"];
const SANDBOX_ONLY = "Only in the sandbox: this BFF has no POST /dev/session (KARD_ENV is not sandbox).";
const $ = (id) => document.getElementById(id);

let encoding = null; // the AbortController of the encode request in flight
let timer = null;
let lastJson = null; // the latest normalized theme the server accepted

function setStatus(message, kind = "") {
  const status = $("status");
  status.textContent = message;
  status.dataset.kind = kind;
}

/** Re-render the preview now; validate and encode after a pause in the edits. */
function changed() {
  renderPreview(readTheme());
  clearTimeout(timer);
  timer = setTimeout(validate, DEBOUNCE_MS);
}

async function validate() {
  encoding?.abort(); // a newer edit is being validated: the answer for the older one is moot
  const { signal } = (encoding = new AbortController());
  const theme = readTheme();
  let encoded;
  try {
    encoded = await requestJson(`${API}/encode`, { method: "POST", body: theme, signal });
  } catch (error) {
    if (signal.aborted) return;
    if (error.status === 422) showInvalid(error.errors);
    else showStale(error.message);
    return;
  }
  clearErrors();
  lastJson = encoded.json;
  showOutputs(encoded.theme, encoded.json);
  markOutputs("");
  showValidity(theme);
}

/** Say the theme is valid, and how many contrast checks of the modes it shows fail. */
function showValidity(theme) {
  const modes = shownModes(theme);
  const failing = contrastChecks(theme).filter((check) => check.low && modes.includes(check.mode)).length;
  if (!failing) {
    setStatus("Theme is valid.", "ok");
    return;
  }
  const checks = failing === 1 ? "1 contrast check fails" : `${failing} contrast checks fail`;
  setStatus(`Theme is valid, but ${checks} (WCAG AA ${AA}:1).`, "warning");
}

/** Show the BFF's verdict at the fields it names; the outputs are empty until they are fixed. */
function showInvalid(errors) {
  const unplaced = showErrors(errors);
  lastJson = null;
  showOutputs("", null);
  const count = errors.length - unplaced.length;
  const parts = [];
  if (count) parts.push(`${count} field${count === 1 ? "" : "s"} to fix.`);
  if (unplaced.length) parts.push(detailsText(unplaced));
  setStatus(parts.join(" "), "error");
  markOutputs(`No output until the theme is valid: ${parts.join(" ")}`);
}

/** Keep the last outputs, marked stale, and say why they were not updated. */
function showStale(reason) {
  const earlier = $("encoded-value").value ? " These outputs are for an earlier theme." : "";
  setStatus(`Not updated: ${reason}`, "error");
  markOutputs(`Not updated: ${reason}${earlier}`, { stale: true });
}

/** Write the note above the outputs, and mark them stale or current. */
function markOutputs(note, { stale = false } = {}) {
  const status = $("output-status");
  status.textContent = note;
  status.dataset.kind = stale ? "stale" : "";
  document.querySelector("#output-heading .badge").hidden = !stale;
  for (const id of OUTPUTS) {
    if (stale) $(id).setAttribute("aria-invalid", "true");
    else $(id).removeAttribute("aria-invalid");
  }
}

function showOutputs(value, json) {
  $("encoded-value").value = value;
  $("theme-json").value = json ? JSON.stringify(json, null, 2) : "";
  updateUrl();
}

function updateUrl() {
  const base = $("webview-base");
  const value = $("encoded-value").value;
  clearFieldError(base);
  if (!value) {
    $("webview-url").value = "";
    return;
  }
  let url;
  try {
    url = new URL(base.value.trim());
    if (!/^https?:$/.test(url.protocol)) throw new TypeError("not http");
  } catch {
    setFieldError(base, "Enter an http(s) URL, e.g. https://webview-test-us-east-1.getkard.com/.");
    $("webview-url").value = "";
    return;
  }
  url.searchParams.set("token", "TOKEN");
  url.searchParams.set("theme", value);
  $("webview-url").value = url.toString();
}

async function importTheme(event) {
  event.preventDefault();
  const input = $("import-input");
  const text = input.value.trim();
  clearFieldError(input);
  if (!text) {
    setFieldError(input, "Paste a WebView URL or an encoded theme value.");
    input.focus();
    return;
  }
  const body = text.includes("://") ? { url: text } : { theme: text };
  let decoded;
  try {
    decoded = await requestJson(`${API}/decode`, { method: "POST", body });
  } catch (error) {
    setFieldError(input, (error.status && detailsText(error.errors)) || error.message);
    input.focus();
    return;
  }
  $("start-from").value = "";
  fillTheme(decoded.json);
  setStatus("Imported the theme.", "ok");
  changed();
}

async function loadNamedThemes() {
  const select = $("start-from");
  let themes = [];
  try {
    themes = (await requestJson(API)).themes || [];
  } catch (error) {
    setFieldError(select, `The named themes could not be loaded. ${error.message}`);
  }
  const byName = new Map(themes.map((t) => [t.name, t.json]));
  for (const { name } of themes) select.append(new Option(name, name));
  select.addEventListener("change", () => {
    fillTheme(select.value ? byName.get(select.value) : {});
    setStatus(select.value ? `Started from ${select.value}.` : "Started from a blank theme.");
    changed();
  });
  select.dataset.loaded = "true";
}

async function copy(button) {
  const text = $(button.dataset.copy).value;
  const label = button.dataset.label || (button.dataset.label = button.textContent);
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    $(button.dataset.copy).select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => {
    button.textContent = label;
  }, 1500);
}

function download() {
  const json = lastJson || readTheme();
  const blob = new Blob([JSON.stringify(json, null, 2) + "\n"], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "theme.json";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

/** Open the stand-in WebView with the current theme, in a session minted through the BFF. */
async function openInSandbox() {
  const button = $("open-webview");
  const problem = $("open-webview-error");
  problem.textContent = "";
  // Opened before any await: browsers let a click open a window, not a promise settled later.
  const opened = window.open("", "_blank");
  button.disabled = true;
  try {
    const url = await sandboxWebViewUrl($("sandbox-user").value.trim(), readTheme());
    if (!opened) throw new Error("The browser blocked the new window: allow pop-ups for this page.");
    opened.opener = null;
    opened.location.href = url;
  } catch (error) {
    opened?.close();
    problem.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

/** A WebView URL for `userId` with `theme`: a dev session first (only the sandbox has them). */
async function sandboxWebViewUrl(userId, theme) {
  let session;
  try {
    session = await requestJson(bffPath("/dev/session"), { method: "POST", body: { userId } });
  } catch (error) {
    throw error.status === 404 ? new Error(SANDBOX_ONLY) : error;
  }
  const body = { theme };
  const { url } = await requestJson(bffPath("/api/v1/webview/session"), { method: "POST", body, token: session.token });
  return new URL(url, window.location.href).href;
}

function start() {
  buildForm();
  buildPreviews();
  const controls = document.querySelector(".controls");
  controls.addEventListener("input", (event) => {
    if (!event.target.dataset.pointer || event.target.id === "import-input") return;
    changed();
  });
  $("webview-base").addEventListener("input", updateUrl);
  $("import-form").addEventListener("submit", importTheme);
  $("import-input").addEventListener("input", () => clearFieldError($("import-input")));
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copy(button));
  }
  $("download-json").addEventListener("click", download);
  $("open-webview").addEventListener("click", openInSandbox);
  renderPreview(readTheme());
  validate();
  loadNamedThemes();
  document.body.dataset.ready = "true";
}

start();
