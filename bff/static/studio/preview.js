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
    renderContrast(mode, colors);
  }
  const note = document.getElementById("mode-note");
  const forced = theme.theme === "light" || theme.theme === "dark" ? theme.theme : null;
  note.textContent = forced
    ? `Mode is ${forced}: the WebView always shows the ${forced} colors.`
    : "Mode follows the device: the WebView shows light or dark colors with the system setting.";
  for (const mode of MODES) {
    document.getElementById(`preview-${mode}`).closest(".phone")
      .classList.toggle("inactive", Boolean(forced) && forced !== mode);
  }
}

function renderContrast(mode, colors) {
  const box = document.querySelector(`#colors-${mode} .contrast`);
  const items = [];
  for (const [fg, bg, label] of CONTRAST_PAIRS) {
    const ratio = contrastRatio(colors[fg], colors[bg]);
    if (ratio === null) continue;
    const shown = Math.floor(ratio * 10) / 10;
    const item = document.createElement("p");
    const low = ratio < AA;
    item.className = low ? "contrast-warning" : "contrast-ok";
    item.textContent = low
      ? `${label}: ${shown.toFixed(1)}:1 (below ${AA}:1)`
      : `${label}: ${shown.toFixed(1)}:1`;
    items.push(item);
  }
  const heading = document.createElement("p");
  heading.className = "contrast-title";
  heading.textContent = `Contrast (${mode}, WCAG AA ${AA}:1)`;
  const text = items.map((item) => `${item.className}:${item.textContent}`).join("|");
  if (box.dataset.shown === text) return; // unchanged: do not re-announce the live region
  box.dataset.shown = text;
  box.replaceChildren(heading, ...items);
}
