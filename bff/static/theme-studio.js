// The theme studio: edit a WebView theme, preview it, validate and encode it through the BFF.

import { buildForm, clearErrors, clearFieldError, fillTheme, readTheme, setFieldError, showErrors } from "./studio/form.js";
import { buildPreviews, renderPreview } from "./studio/preview.js";

const API = "/api/v1/themes";
const DEBOUNCE_MS = 200;
const $ = (id) => document.getElementById(id);

let validation = 0; // sequence number of the latest encode request
let timer = null;
let lastJson = null; // the latest normalized theme the server accepted

function setStatus(message, kind = "") {
  const status = $("status");
  status.textContent = message;
  status.dataset.kind = kind;
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { ok: response.ok, status: response.status, data };
}

function errorText(errors) {
  return errors.map((e) => e.detail || e.title).filter(Boolean).join(" ");
}

/** Re-render the preview now; validate and encode after a pause in the edits. */
function changed() {
  renderPreview(readTheme());
  clearTimeout(timer);
  timer = setTimeout(validate, DEBOUNCE_MS);
}

async function validate() {
  const sequence = ++validation;
  const theme = readTheme();
  let result;
  try {
    result = await postJson(`${API}/encode`, theme);
  } catch {
    if (sequence === validation) setStatus("The BFF cannot be reached; try again.", "error");
    return;
  }
  if (sequence !== validation) return; // a newer edit is being validated
  if (result.ok) {
    clearErrors();
    lastJson = result.data.json;
    showOutputs(result.data.theme, result.data.json);
    setStatus("Theme is valid.", "ok");
    return;
  }
  const errors = result.data.errors || [{ detail: `The BFF answered ${result.status}.` }];
  const unplaced = showErrors(errors);
  lastJson = null;
  showOutputs("", null);
  const count = errors.length - unplaced.length;
  const parts = [];
  if (count) parts.push(`${count} field${count === 1 ? "" : "s"} to fix.`);
  if (unplaced.length) parts.push(errorText(unplaced));
  setStatus(parts.join(" "), "error");
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
  let result;
  try {
    result = await postJson(`${API}/decode`, body);
  } catch {
    setStatus("The BFF cannot be reached; try again.", "error");
    return;
  }
  if (!result.ok) {
    setFieldError(input, errorText(result.data.errors || []) || "This is not a valid theme.");
    input.focus();
    return;
  }
  $("start-from").value = "";
  fillTheme(result.data.json);
  setStatus("Imported the theme.", "ok");
  changed();
}

async function loadNamedThemes() {
  const select = $("start-from");
  let themes = [];
  try {
    const response = await fetch(API, { headers: { Accept: "application/json" } });
    if (response.ok) themes = (await response.json()).themes || [];
  } catch {
    setStatus("Could not load the named themes.", "error");
  }
  const byName = new Map(themes.map((t) => [t.name, t.json]));
  for (const { name } of themes) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    select.append(option);
  }
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

function start() {
  buildForm();
  buildPreviews();
  const controls = document.querySelector(".controls");
  controls.addEventListener("input", (event) => {
    if (event.target.closest("#import-form") || event.target.id === "webview-base") return;
    changed();
  });
  $("webview-base").addEventListener("input", updateUrl);
  $("import-form").addEventListener("submit", importTheme);
  $("import-input").addEventListener("input", () => clearFieldError($("import-input")));
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copy(button));
  }
  $("download-json").addEventListener("click", download);
  renderPreview(readTheme());
  validate();
  loadNamedThemes();
  document.body.dataset.ready = "true";
}

start();
