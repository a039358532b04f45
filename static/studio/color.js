// Colors: any CSS color string to RGB by painting it into a 1x1 canvas; WCAG contrast.

const canvas = document.createElement("canvas");
canvas.width = 1;
canvas.height = 1;
const context = canvas.getContext("2d", { willReadFrequently: true });

/** Whether the browser reads `text` as a color (any syntax it knows). */
export function isColor(text) {
  return typeof text === "string" && text.trim() !== "" && CSS.supports("color", text.trim());
}

/**
 * The color as {r, g, b, a} (0-255), composited over white when translucent (so a contrast
 * ratio stays meaningful), or null when it is not a color.
 */
export function toRgb(text) {
  if (!isColor(text)) return null;
  context.clearRect(0, 0, 1, 1);
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, 1, 1);
  context.fillStyle = text.trim();
  context.fillRect(0, 0, 1, 1);
  const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
  context.clearRect(0, 0, 1, 1);
  context.fillStyle = text.trim();
  context.fillRect(0, 0, 1, 1);
  const a = context.getImageData(0, 0, 1, 1).data[3];
  return { r, g, b, a };
}

/** The color as #rrggbb when it is opaque (what <input type="color"> takes), else null. */
export function toHex(text) {
  const rgb = toRgb(text);
  if (!rgb || rgb.a !== 255) return null;
  return "#" + [rgb.r, rgb.g, rgb.b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

function luminance({ r, g, b }) {
  const linear = (v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2 contrast ratio of two CSS colors, or null if either is not a color. */
export function contrastRatio(foreground, background) {
  const fg = toRgb(foreground);
  const bg = toRgb(background);
  if (!fg || !bg) return null;
  const [light, dark] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}
