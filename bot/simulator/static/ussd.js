// The feature phone: dial a USSD code and answer screens, exactly as Africa's Talking calls us.

import { $, state } from "./util.js";

const session = { id: null, code: null, inputs: [], busy: false };

function show(text, length) {
  $("ussd-text").textContent = text;
  $("ussd-count").textContent = String(length);
  $("ussd-meter").value = length;
}

function idle() {
  session.id = null;
  session.inputs = [];
  $("ussd-send").textContent = "Call";
  $("ussd-input-label").textContent = "Number to dial";
  $("ussd-input").value = state.config.ussd_code;
}

export function resetUssd(text) {
  session.code = null;
  session.busy = false;
  show(text, 0);
  idle();
}

function newSessionId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "ATUid_sim" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function atForm(fields) {
  return new URLSearchParams({
    sessionId: session.id,
    serviceCode: session.code,
    phoneNumber: state.phone,
    networkCode: "63902",
    ...fields,
  });
}

async function hop(text) {
  session.busy = true;
  $("ussd-send").disabled = true;
  $("ussd-text").textContent = "USSD code running…";
  try {
    const response = await fetch("/channels/africastalking/ussd", { method: "POST", body: atForm({ text }) });
    const body = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    show(body.replace(/^(CON|END) ?/, ""), body.length); // the 182-character budget includes the prefix
    if (body.startsWith("END")) {
      ended("Success");
    } else {
      $("ussd-send").textContent = "Send";
      $("ussd-input-label").textContent = "Your reply";
      $("ussd-input").value = "";
    }
  } catch (error) {
    show(`Connection problem or invalid MMI code. (${error.message})`, 0);
    idle();
  } finally {
    session.busy = false;
    $("ussd-send").disabled = false;
    $("ussd-input").focus({ preventScroll: true });
  }
}

function ended(status) {
  if (session.id) {
    // Africa's Talking tells the app when a session is over; so do we (best effort).
    const form = atForm({ status, input: session.inputs.join("*"), hopsCount: String(session.inputs.length + 1) });
    fetch("/channels/africastalking/ussd/events", { method: "POST", body: form }).catch(() => {});
  }
  idle();
}

function submit(event) {
  event.preventDefault();
  if (session.busy) return;
  const value = $("ussd-input").value.trim();
  if (session.id === null) {
    if (!/^\*[0-9*]*#$/.test(value)) {
      show(`Dial a USSD code such as ${state.config.ussd_code}.`, 0);
      return;
    }
    session.id = newSessionId();
    session.code = value;
    session.inputs = [];
    hop("");
    return;
  }
  session.inputs.push(value);
  hop(session.inputs.join("*"));
}

function cancel() {
  if (session.id !== null) {
    ended("Incomplete"); // what AT reports when the user cancels
    show("Session cancelled.", 0);
  } else {
    $("ussd-input").value = "";
  }
}

function keypad(event) {
  const key = event.target.closest("button[data-key]");
  if (!key) return;
  const input = $("ussd-input");
  input.value = key.dataset.key === "clear" ? input.value.slice(0, -1) : input.value + key.dataset.key;
  input.focus({ preventScroll: true });
}

export function wireUssd() {
  $("ussd-form").addEventListener("submit", submit);
  $("ussd-cancel").addEventListener("click", cancel);
  document.querySelector(".keypad").addEventListener("click", keypad);
}
