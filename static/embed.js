// The web embed example: a dev session, a WebView session from the BFF, the WebView in an iframe,
// and the location bridge exactly as Kard's WebView guide describes it.

import { bffPath, requestJson } from "./http.js";
import { cloneTemplate } from "./template.js";

const RENEW_BEFORE_MS = 60_000;
const MIN_RENEW_DELAY_MS = 5_000;

const $ = (id) => document.getElementById(id);
const form = $("load-form");
const iframe = $("webview");
const status = $("status");

let session = null; // {url, expiresAt, origin, userId, themeName}
let renewTimer = null;

function log(direction, type, origin, note = "") {
  const entry = cloneTemplate("log-entry-template");
  entry.classList.add(direction);
  entry.dataset.direction = direction;
  entry.dataset.type = type;
  entry.querySelector(".direction").textContent = direction;
  entry.querySelector(".type").textContent = type;
  entry.querySelector(".origin").textContent = origin;
  if (note) entry.querySelector(".note").textContent = note;
  else entry.querySelector(".note").remove();
  $("message-log").append(entry);
  entry.scrollIntoView({ block: "nearest" });
}

/** Show a failure where the WebView goes, with a way to try again. */
function showProblem(message) {
  $("frame-error-text").textContent = message;
  $("frame-error").hidden = false;
}

function clearProblem() {
  $("frame-error").hidden = true;
  $("frame-error-text").textContent = "";
}

async function openSession(userId, themeName) {
  const { token } = await requestJson(bffPath("/dev/session"), { method: "POST", body: { userId } });
  const body = themeName ? { themeName } : undefined;
  const answer = await requestJson(bffPath("/api/v1/webview/session"), { method: "POST", body, token });
  const url = new URL(answer.url, window.location.href);
  return { url: url.href, origin: url.origin, expiresAt: answer.expiresAt, userId, themeName };
}

function scheduleRenewal() {
  clearTimeout(renewTimer);
  const delay = Math.max(Date.parse(session.expiresAt) - Date.now() - RENEW_BEFORE_MS, MIN_RENEW_DELAY_MS);
  renewTimer = setTimeout(renew, delay);
  const at = new Date(Date.now() + delay).toLocaleTimeString();
  status.textContent = `WebView loaded for ${session.userId}; its token expires ${session.expiresAt}, renewal at ${at}.`;
}

async function renew() {
  try {
    const renewed = await openSession(session.userId, session.themeName);
    show(renewed);
    log("renewed", "session", renewed.origin, `expires ${renewed.expiresAt}`);
  } catch (error) {
    status.textContent = "Renewing the WebView session failed; trying again in 30 seconds.";
    showProblem(`Renewing the WebView session failed: ${error.message}`);
    renewTimer = setTimeout(renew, MIN_RENEW_DELAY_MS * 6);
  }
}

function show(next) {
  clearProblem();
  session = next;
  iframe.src = next.url;
  scheduleRenewal();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const userId = $("user-id").value.trim();
  const themeName = $("theme").value;
  if (!userId) return;
  $("load").disabled = true;
  status.textContent = "Loading the WebView…";
  try {
    show(await openSession(userId, themeName));
  } catch (error) {
    status.textContent = "Could not load the WebView.";
    showProblem(`Could not load the WebView: ${error.message}`);
  } finally {
    $("load").disabled = false;
  }
});

$("retry").addEventListener("click", () => form.requestSubmit());

// ---- the location bridge ---------------------------------------------------------------------

function reply(message) {
  // Answer only the WebView, and only while it is still at the WebView's origin.
  iframe.contentWindow?.postMessage(message, session.origin);
  log("out", message.type, session.origin);
}

function answerLocation() {
  if (!("geolocation" in navigator)) {
    reply({ type: "ERROR", payload: { ok: false, error: "Geolocation is not available" } });
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) =>
      reply({
        type: "LOCATION_RESPONSE",
        payload: {
          ok: true,
          coords: {
            latitude: position.coords.latitude,
            longitude: position.coords.longitude,
            accuracy: position.coords.accuracy,
            altitude: position.coords.altitude,
            heading: position.coords.heading,
            speed: position.coords.speed,
          },
          timestamp: position.timestamp,
        },
      }),
    (error) => reply({ type: "ERROR", payload: { ok: false, error: error.message || "Location unavailable" } }),
    { enableHighAccuracy: true, timeout: 15_000 },
  );
}

window.addEventListener("message", (event) => {
  const type = typeof event.data?.type === "string" ? event.data.type : "(no type)";
  if (!session) {
    log("ignored", type, event.origin, "no WebView is loaded");
  } else if (event.origin !== session.origin) {
    log("ignored", type, event.origin, "origin is not the WebView's");
  } else if (!iframe.contentWindow || event.source !== iframe.contentWindow) {
    log("ignored", type, event.origin, "source is not the WebView frame");
  } else if (type !== "REQUEST_LOCATION") {
    log("ignored", type, event.origin, "unknown message type");
  } else {
    log("in", type, event.origin);
    answerLocation();
  }
});

// ---- themes ----------------------------------------------------------------------------------

async function loadThemes() {
  try {
    const { themes } = await requestJson(bffPath("/api/v1/themes"));
    const select = $("theme");
    for (const theme of themes) {
      const name = theme.name;
      select.append(new Option(name, name));
    }
  } catch (error) {
    status.textContent = `Themes could not be listed. ${error.message} "none" still works.`;
  }
}

loadThemes();
