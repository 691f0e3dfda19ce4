// Small helpers shared by the simulator's modules: DOM building, fetch, phones, SMS segments.

export const $ = (id) => document.getElementById(id);

export const SANDBOX = "/sandbox/sandbox-control";

// Everything the page knows; one object, shared by the modules.
export const state = {
  config: null,
  phone: null,
  channel: "ussd",
  generation: 0, // bumped on every phone switch, so late answers for the old phone are dropped
};

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export async function api(path, options) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.error ? body.error.message || body.error : `HTTP ${response.status}`;
    throw new Error(typeof message === "string" ? message : JSON.stringify(message));
  }
  return body;
}

export function postJson(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

export function digits(phone) {
  return String(phone || "").replace(/\D/g, "");
}

export function samePhone(a, b) {
  return digits(a) === digits(b);
}

export function timeOf(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

let noteTimer = null;

// A short status line over the phone (role=status, so screen readers hear it too).
export function note(text) {
  const node = $("phone-note");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => { node.hidden = true; }, 6000);
}

// SMS segments as providers count them: GSM-7 160/153 septets, else UCS-2 70/67 units.
const GSM7 = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
);
const GSM7_EXT = new Set("^{}\\[~]|€\f");

export function smsInfo(text) {
  const chars = Array.from(text);
  const gsm = chars.every((c) => GSM7.has(c) || GSM7_EXT.has(c));
  const units = gsm ? chars.reduce((n, c) => n + (GSM7_EXT.has(c) ? 2 : 1), 0) : text.length;
  const [single, multi] = gsm ? [160, 153] : [70, 67]; // text.length counts UTF-16 units: emoji take two
  const parts = units <= single ? 1 : Math.ceil(units / multi);
  return { chars: chars.length, parts, encoding: gsm ? "GSM-7" : "UCS-2" };
}

export function smsLabel(text) {
  const info = smsInfo(text);
  return `${info.chars} characters · ${info.parts} SMS (${info.encoding})`;
}
