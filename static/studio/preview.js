// The live preview (light and dark, side by side) and the contrast checks, per mode.

import {
  AA,
  COLOR_TOKENS,
  CONTRAST_PAIRS,
  DEFAULT_COLORS,
  DEFAULT_RADII,
  LABELS,
  MODES,
  RADIUS_TOKENS,
  cssVar,
} from "../theme-schema.js";
import { contrastRatio, isColor } from "./color.js";

const LENGTH = /^(0|\d*\.?\d+(px|r?em|%|vw|vh|ch|pt))$/i;

export function buildPreviews() {
  const template = document.getElementById("preview-template");
  for (const mode of MODES) {
    document.getElementById(`preview-${mode}`).append(template.content.cloneNode(true));
  }
}

/** The colors a mode shows: the theme's valid ones, the defaults for the rest. */
function effectiveColors(theme, mode) {
  const given = ((theme.styles || {})[mode]) || {};
  const colors = {};
  for (const [token] of COLOR_TOKENS) {
    colors[token] = isColor(given[token]) ? given[token] : DEFAULT_COLORS[mode][token];
  }
  return colors;
}

export function renderPreview(theme) {
  const layout = (theme.styles || {}).layout || {};
  const showMap = (theme.layout || {}).showMap !== false;
  for (const mode of MODES) {
    const container = document.getElementById(`preview-${mode}`);
    const colors = effectiveColors(theme, mode);
    for (const [token] of COLOR_TOKENS) container.style.setProperty(cssVar(token), colors[token]);
    for (const [token] of RADIUS_TOKENS) {
      const given = (layout[token] || "").trim();
      container.style.setProperty(cssVar(token), LENGTH.test(given) ? given : DEFAULT_RADII[token]);
    }
    for (const [key, , fallback] of LABELS) {
      const text = ((theme.labels || {})[key] || "").trim() || fallback;
      for (const node of container.querySelectorAll(`[data-label="${key}"]`)) node.textContent = text;
    }
    for (const map of container.querySelectorAll("[data-map]")) map.hidden = !showMap;
  }
  const checks = contrastChecks(theme);
  for (const mode of MODES) renderContrast(mode, checks.filter((check) => check.mode === mode));
  const note = document.getElementById("mode-note");
  const shown = shownModes(theme);
  note.textContent = shown.length === 1
    ? `Mode is ${shown[0]}: the WebView always shows the ${shown[0]} colors.`
    : "Mode follows the device: the WebView shows light or dark colors with the system setting.";
  for (const mode of MODES) {
    document.getElementById(`preview-${mode}`).closest(".phone")
      .classList.toggle("inactive", !shown.includes(mode));
  }
}

/** The modes whose colors the WebView shows: the one the theme forces, or both. */
export function shownModes(theme) {
  return theme.theme === "light" || theme.theme === "dark" ? [theme.theme] : MODES;
}

/** Every contrast pair of each mode, with its ratio and whether it falls below WCAG AA. */
export function contrastChecks(theme) {
  const checks = [];
  for (const mode of MODES) {
    const colors = effectiveColors(theme, mode);
    for (const [fg, bg, label] of CONTRAST_PAIRS) {
      const ratio = contrastRatio(colors[fg], colors[bg]);
      if (ratio !== null) checks.push({ mode, label, ratio, low: ratio < AA });
    }
  }
  return checks;
}

function renderContrast(mode, checks) {
  const box = document.querySelector(`#colors-${mode} .contrast`);
  const items = checks.map(({ label, ratio, low }) => {
    const shown = (Math.floor(ratio * 10) / 10).toFixed(1);
    const item = document.createElement("p");
    item.className = low ? "contrast-warning" : "contrast-ok";
    item.textContent = low ? `${label}: ${shown}:1 (below ${AA}:1)` : `${label}: ${shown}:1`;
    return item;
  });
  const heading = document.createElement("p");
  heading.className = "contrast-title";
  heading.textContent = `Contrast (${mode}, WCAG AA ${AA}:1)`;
  const text = items.map((item) => `${item.className}:${item.textContent}`).join("|");
  if (box.dataset.shown === text) return; // unchanged: do not re-announce the live region
  box.dataset.shown = text;
  box.replaceChildren(heading, ...items);
}
