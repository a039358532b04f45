// The studio's form: one control per theme token; read it as a theme, fill it from a theme.

import { cloneTemplate } from "../template.js";
import { MAX_LABEL_LENGTH } from "../theme-limits.js";
import { COLOR_TOKENS, DEFAULT_COLORS, DEFAULT_RADII, LABELS, MODES, RADIUS_TOKENS } from "../theme-schema.js";
import { toHex } from "./color.js";

const $ = (id) => document.getElementById(id);

/**
 * A copy of the template `templateId` for the theme field at `pointer`: its first label and its
 * text input named `id`, the input tied to its error line. Answers the field and its input.
 */
function fieldFrom(templateId, { id, label, pointer, placeholder }) {
  const field = cloneTemplate(templateId);
  Object.assign(field.querySelector("label"), { htmlFor: id, textContent: label });
  const input = field.querySelector("input[type='text']");
  Object.assign(input, { id, name: id, placeholder });
  input.dataset.pointer = pointer;
  input.setAttribute("aria-describedby", `${id}-error`);
  field.querySelector(".field-error").id = `${id}-error`;
  return { field, input };
}

/** A labelled text field with its error line. */
function textField({ maxLength, ...names }) {
  const { field, input } = fieldFrom("text-field-template", names);
  if (maxLength) input.maxLength = maxLength;
  return field;
}

/** A color token: a text field for any CSS color and a picker kept in step with it. */
function colorField(mode, token, label) {
  const id = `${mode}-${token}`;
  const pointer = `/styles/${mode}/${token}`;
  const placeholder = DEFAULT_COLORS[mode][token];
  const { field, input } = fieldFrom("color-field-template", { id, label, pointer, placeholder });
  Object.assign(input.dataset, { mode, token });
  const pickerLabel = field.querySelector("label.visually-hidden");
  Object.assign(pickerLabel, { htmlFor: `${id}-picker`, textContent: `${label} (${mode}), color picker` });
  const picker = field.querySelector("input[type='color']");
  Object.assign(picker, { id: `${id}-picker`, defaultValue: DEFAULT_COLORS[mode][token] });
  picker.dataset.for = id;
  picker.addEventListener("input", () => {
    input.value = picker.value;
    picker.classList.remove("unset");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  input.addEventListener("input", () => syncPicker(input));
  return field;
}

/** Set a color field's picker from its text, when the text is a color a picker can show. */
function syncPicker(input) {
  const picker = $(`${input.id}-picker`);
  const text = input.value.trim();
  if (!text) {
    picker.value = DEFAULT_COLORS[input.dataset.mode][input.dataset.token];
    picker.classList.add("unset");
    return;
  }
  const hex = toHex(text);
  if (hex) {
    picker.value = hex;
    picker.classList.remove("unset");
  }
}

export function buildForm() {
  for (const mode of MODES) {
    const list = document.querySelector(`#colors-${mode} .color-list`);
    for (const [token, label] of COLOR_TOKENS) list.append(colorField(mode, token, label));
  }
  const labels = $("labels-fields");
  for (const [key, label, fallback] of LABELS) {
    const pointer = `/labels/${key}`;
    const maxLength = MAX_LABEL_LENGTH;
    labels.append(textField({ id: `label-${key}`, label, pointer, placeholder: fallback, maxLength }));
  }
  const radii = $("radius-fields");
  for (const [key, label] of RADIUS_TOKENS) {
    const pointer = `/styles/layout/${key}`;
    radii.append(textField({ id: `layout-${key}`, label, pointer, placeholder: DEFAULT_RADII[key] }));
  }
  $("show-map").addEventListener("input", (event) => {
    event.target.dataset.explicit = "true";
  });
}

const value = (id) => $(id).value.trim();

/** The theme the form describes; empty fields (and empty groups) are left out. */
export function readTheme() {
  const theme = {};
  if (value("theme-mode")) theme.theme = value("theme-mode");
  const styles = {};
  for (const mode of MODES) {
    const colors = {};
    for (const [token] of COLOR_TOKENS) {
      if (value(`${mode}-${token}`)) colors[token] = value(`${mode}-${token}`);
    }
    if (Object.keys(colors).length) styles[mode] = colors;
  }
  const layout = {};
  for (const [key] of RADIUS_TOKENS) {
    if (value(`layout-${key}`)) layout[key] = value(`layout-${key}`);
  }
  if (Object.keys(layout).length) styles.layout = layout;
  if (Object.keys(styles).length) theme.styles = styles;
  const labels = {};
  for (const [key] of LABELS) if (value(`label-${key}`)) labels[key] = value(`label-${key}`);
  if (Object.keys(labels).length) theme.labels = labels;
  const showMap = $("show-map");
  if (showMap.dataset.explicit === "true") theme.layout = { showMap: showMap.checked };
  return theme;
}

/** Fill every field from `theme`; a field the theme does not set is cleared. */
export function fillTheme(theme) {
  const styles = theme.styles || {};
  $("theme-mode").value = theme.theme || "";
  for (const mode of MODES) {
    for (const [token] of COLOR_TOKENS) {
      const input = $(`${mode}-${token}`);
      input.value = (styles[mode] || {})[token] || "";
      syncPicker(input);
    }
  }
  for (const [key] of RADIUS_TOKENS) $(`layout-${key}`).value = (styles.layout || {})[key] || "";
  for (const [key] of LABELS) $(`label-${key}`).value = (theme.labels || {})[key] || "";
  const showMap = (theme.layout || {}).showMap;
  $("show-map").checked = showMap !== false;
  if (typeof showMap === "boolean") $("show-map").dataset.explicit = "true";
  else delete $("show-map").dataset.explicit;
}

/** Show each error at the field its JSON pointer names; answer the errors no field takes. */
export function showErrors(errors) {
  clearErrors();
  const unplaced = [];
  for (const error of errors) {
    const pointer = (error.source && error.source.pointer) || "";
    const field = pointer ? document.querySelector(`[data-pointer="${CSS.escape(pointer)}"]`) : null;
    if (!field || field.id === "import-input") {
      unplaced.push(error);
      continue;
    }
    setFieldError(field, error.detail || error.title || "Invalid value.");
  }
  return unplaced;
}

export function setFieldError(field, message) {
  const line = $(`${field.id}-error`);
  const previous = line.textContent;
  line.textContent = previous ? `${previous} ${message}` : message;
  field.setAttribute("aria-invalid", "true");
}

/** Clear the errors of the theme's fields (the import field keeps its own). */
export function clearErrors() {
  for (const field of document.querySelectorAll(".controls [data-pointer][aria-invalid='true']")) {
    if (field.id === "import-input") continue;
    field.removeAttribute("aria-invalid");
    $(`${field.id}-error`).textContent = "";
  }
}

export function clearFieldError(field) {
  field.removeAttribute("aria-invalid");
  $(`${field.id}-error`).textContent = "";
}
