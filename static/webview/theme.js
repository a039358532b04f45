// Decode and apply the WebView `theme` parameter (base64url JSON; see Kard's WebView guide).

import { COLOR_TOKENS as COLORS, LABELS, RADIUS_TOKENS } from "../theme-schema.js";

export const DEFAULT_LABELS = Object.freeze(
  Object.fromEntries(LABELS.map(([key, , fallback]) => [key, fallback])),
);

const COLOR_TOKENS = COLORS.map(([token]) => token);
const LENGTH_TOKENS = RADIUS_TOKENS.map(([token]) => token);

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const cssName = (token) => `--kard-${token.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** base64url -> bytes -> UTF-8 -> JSON object; null when absent or malformed. */
export function decodeTheme(encoded) {
  if (!encoded) return null;
  try {
    const base64 = encoded.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const theme = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return isObject(theme) ? theme : null;
  } catch {
    return null;
  }
}

/** The labels with defaults for any missing or blank one. */
export function labelsOf(theme) {
  const given = isObject(theme?.labels) ? theme.labels : {};
  const labels = { ...DEFAULT_LABELS };
  for (const key of Object.keys(DEFAULT_LABELS)) {
    if (typeof given[key] === "string" && given[key].trim()) labels[key] = given[key].trim();
  }
  return labels;
}

/** layout.showMap, default true. */
export function showMapOf(theme) {
  const layout = isObject(theme?.layout) ? theme.layout : {};
  return layout.showMap !== false;
}

/** Apply colors for the mode (light/dark/system) and the layout radii as CSS variables. */
export function applyTheme(theme, root = document.documentElement) {
  const styles = isObject(theme?.styles) ? theme.styles : {};
  const preference = ["light", "dark", "system"].includes(theme?.theme) ? theme.theme : "system";
  const dark = window.matchMedia("(prefers-color-scheme: dark)");

  const paint = () => {
    const mode = preference === "system" ? (dark.matches ? "dark" : "light") : preference;
    root.dataset.mode = mode;
    root.style.setProperty("color-scheme", mode);
    const tokens = isObject(styles[mode]) ? styles[mode] : {};
    for (const token of COLOR_TOKENS) {
      const value = tokens[token];
      if (typeof value === "string" && CSS.supports("color", value)) {
        root.style.setProperty(cssName(token), value);
      } else {
        root.style.removeProperty(cssName(token));
      }
    }
  };

  const layout = isObject(styles.layout) ? styles.layout : {};
  for (const token of LENGTH_TOKENS) {
    const value = layout[token];
    if (typeof value === "string" && CSS.supports("border-radius", value)) {
      root.style.setProperty(cssName(token), value);
    }
  }
  paint();
  if (preference === "system") dark.addEventListener("change", paint);
}
