// Jumbe simulator: chat as a phone. The page only talks to our public routes, the simulator API
// (which builds and signs provider requests server-side) and the sandbox's control API.

import { addIncomingSms, addWhatsApp, clearThreads, wireChat } from "./chat.js";
import { refreshBalances, resetLedger, wireLedger } from "./ledger.js";
import { hidePrompt, loadPrompts, onPrompt, promptOpen, wirePrompt } from "./prompt.js";
import { resetUssd, wireUssd } from "./ussd.js";
import { $, SANDBOX, api, el, note, samePhone, state } from "./util.js";

const CHANNELS = ["ussd", "whatsapp", "sms"];
const FOCUS = { ussd: "ussd-input", whatsapp: "wa-input", sms: "sms-input" };
const seen = new Set();
const unread = { ussd: 0, whatsapp: 0, sms: 0 };
let events = null;

function showChannel(channel) {
  state.channel = channel;
  for (const name of CHANNELS) $(`panel-${name}`).hidden = name !== channel;
  unread[channel] = 0;
  renderBadges();
  localStorage.setItem("jumbe-sim-channel", channel);
  if (!promptOpen()) $(FOCUS[channel]).focus({ preventScroll: true });
}

function renderBadges() {
  for (const name of CHANNELS) {
    const badge = $(`badge-${name}`);
    badge.hidden = unread[name] === 0;
    badge.textContent = unread[name] ? `${unread[name]} new` : "";
  }
}

function bump(channel) {
  if (channel !== state.channel) {
    unread[channel] += 1;
    renderBadges();
  }
}

// ---- the phone's outbox, live --------------------------------------------------------

function onItem(item, live) {
  if (seen.has(item.seq) || !samePhone(item.to, state.phone)) return;
  seen.add(item.seq);
  if (item.provider === "whatsapp") {
    addWhatsApp(item);
    if (live) bump("whatsapp");
  } else if (item.kind === "sms" || item.kind === "mpesa_receipt") {
    addIncomingSms(item.sender || (item.kind === "mpesa_receipt" ? "MPESA" : "SMS"), item.body, item);
    if (live) bump("sms");
  } else if (item.kind === "stk_push" && live && !(item.payload && item.payload.manual)) {
    note("M-PESA prompt sent; the sandbox answers it automatically.");
  }
}

async function loadHistory(live) {
  const generation = state.generation;
  try {
    const data = await api(`${SANDBOX}/outbox?to=${encodeURIComponent(state.phone)}`);
    if (generation === state.generation) for (const item of data.items) onItem(item, live);
  } catch (error) {
    note(`Could not load messages: ${error.message}`);
  }
}

function connectEvents() {
  if (events) events.close();
  let connectedBefore = false;
  const source = new EventSource(`${SANDBOX}/events?to=${encodeURIComponent(state.phone)}`);
  events = source;
  $("connection").textContent = "connecting…";
  source.addEventListener("open", () => {
    $("connection").textContent = "live";
    // On every (re)connect, catch up with what was sent while the stream was down.
    loadHistory(connectedBefore);
    if (connectedBefore) loadPrompts();
    connectedBefore = true;
  });
  source.addEventListener("error", () => { $("connection").textContent = "reconnecting…"; });
  source.addEventListener("outbox", (event) => onItem(JSON.parse(event.data), true));
  source.addEventListener("prompt", (event) => onPrompt(JSON.parse(event.data)));
}

// ---- which phone -----------------------------------------------------------------------

function selectPhone(phone) {
  state.generation += 1;
  state.phone = phone;
  localStorage.setItem("jumbe-sim-phone", phone);
  $("phone-number").textContent = phone;
  seen.clear();
  clearThreads();
  for (const name of CHANNELS) unread[name] = 0;
  renderBadges();
  resetUssd(`Dial ${state.config.ussd_code} and press Call.`);
  hidePrompt();
  resetLedger();
  connectEvents();
  loadPrompts();
  refreshBalances();
}

function addOption(select, phone) {
  select.insertBefore(el("option", { value: phone, text: phone }), select.lastChild);
}

function fillPhones() {
  const select = $("phone-choice");
  for (const entry of state.config.phones) {
    select.append(el("option", { value: entry.phone, text: `${entry.label} ${entry.phone}` }));
  }
  select.append(el("option", { value: "other", text: "Another number…" }));
  const saved = localStorage.getItem("jumbe-sim-phone");
  if (saved && !state.config.phones.some((entry) => entry.phone === saved)) addOption(select, saved);
  select.value = saved || state.config.phones[0].phone;
  select.addEventListener("change", () => {
    const other = select.value === "other";
    $("custom-phone-form").hidden = !other;
    if (other) $("custom-phone").focus();
    else selectPhone(select.value);
  });
  $("custom-phone-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = $("custom-phone").value.trim().replace(/[\s-]/g, "");
    const phone = raw.startsWith("+") ? raw : raw.startsWith("0") ? `+254${raw.slice(1)}` : `+${raw}`;
    if (!/^\+\d{9,15}$/.test(phone)) {
      $("custom-phone-error").textContent = "Enter a number like +254712345678.";
      return;
    }
    $("custom-phone-error").textContent = "";
    addOption(select, phone);
    select.value = phone;
    $("custom-phone-form").hidden = true;
    selectPhone(phone);
  });
  $("phone-hint").textContent = `Demo PIN: ${state.config.pin_hint}. USSD code: ${state.config.ussd_code}.`;
  $("tip-code").textContent = state.config.ussd_code;
  $("tip-pin").textContent = state.config.pin_hint;
}

async function start() {
  for (const radio of document.querySelectorAll('input[name="channel"]')) {
    radio.addEventListener("change", () => showChannel(radio.value));
  }
  wireUssd();
  wireChat();
  wirePrompt();
  wireLedger();
  try {
    state.config = await api("/simulator/api/config");
  } catch (error) {
    $("ussd-text").textContent = `The simulator is not available: ${error.message}`;
    return;
  }
  fillPhones();
  const saved = localStorage.getItem("jumbe-sim-channel");
  const channel = CHANNELS.includes(saved) ? saved : "ussd";
  document.querySelector(`input[name="channel"][value="${channel}"]`).checked = true;
  selectPhone($("phone-choice").value);
  showChannel(channel);
  document.body.dataset.ready = "true";
}

start();
