// The theme's tokens (Kard's WebView guide), shared by the theme studio and the WebView stand-in,
// and the defaults the studio's preview falls back to.

export const MODES = ["light", "dark"];

export const COLOR_TOKENS = [
  ["background", "Background"],
  ["primary", "Primary"],
  ["buttonPrimaryTextColor", "Primary button text"],
  ["secondary", "Secondary"],
  ["buttonSecondaryTextColor", "Secondary button text"],
  ["textPrimary", "Text primary"],
  ["textSecondary", "Text secondary"],
  ["cardBackgroundColor", "Card background"],
  ["border", "Border"],
  ["linkColor", "Link"],
];

export const RADIUS_TOKENS = [
  ["radius", "Radius"],
  ["chipRadius", "Chip radius"],
  ["imageRadius", "Image radius"],
  ["cardRadius", "Card radius"],
];

export const LABELS = [
  ["rewardsTitle", "Rewards title", "Rewards"],
  ["nearbyOffersTitle", "Nearby offers title", "Nearby offers"],
  ["offersTitle", "Offers title", "Offers"],
];

export const DEFAULT_COLORS = {
  light: {
    background: "#f6f7f9",
    primary: "#2563eb",
    buttonPrimaryTextColor: "#ffffff",
    secondary: "#e5e7eb",
    buttonSecondaryTextColor: "#111827",
    textPrimary: "#111827",
    textSecondary: "#4b5563",
    cardBackgroundColor: "#ffffff",
    border: "#e5e7eb",
    linkColor: "#1d4ed8",
  },
  dark: {
    background: "#0f1115",
    primary: "#60a5fa",
    buttonPrimaryTextColor: "#0b1220",
    secondary: "#374151",
    buttonSecondaryTextColor: "#f9fafb",
    textPrimary: "#f9fafb",
    textSecondary: "#9ca3af",
    cardBackgroundColor: "#1c1f26",
    border: "#2f3542",
    linkColor: "#93c5fd",
  },
};

export const DEFAULT_RADII = {
  radius: "8px",
  chipRadius: "9999px",
  imageRadius: "8px",
  cardRadius: "12px",
};

/** The CSS custom property a token is exposed as on the preview: primary -> --kard-primary. */
export function cssVar(token) {
  return "--kard-" + token.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The pairs whose contrast must reach WCAG AA (4.5:1): [foreground, background, label]. */
export const CONTRAST_PAIRS = [
  ["textPrimary", "background", "Text on background"],
  ["textPrimary", "cardBackgroundColor", "Text on card"],
  ["buttonPrimaryTextColor", "primary", "Primary button text on primary"],
  ["buttonSecondaryTextColor", "secondary", "Secondary button text on secondary"],
];
export const AA = 4.5;
