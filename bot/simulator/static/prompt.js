// The M-Pesa STK prompt on the phone: approve with a PIN, cancel, wrong PIN, or let it time out.

import { $, SANDBOX, api, digits, note, postJson, samePhone, state } from "./util.js";

let current = null;
let timer = null;
let returnFocus = null;

const OUTCOMES = { approved: "approved", cancelled: "cancelled", wrong_pin: "refused: wrong PIN", timed_out: "timed out" };

export function promptOpen() {
  return current !== null;
}

export async function loadPrompts() {
  const generation = state.generation;
  try {
    const data = await api(`${SANDBOX}/prompts?phone=${encodeURIComponent(digits(state.phone))}`);
    if (generation === state.generation && data.prompts.length) onPrompt(data.prompts[data.prompts.length - 1]);
  } catch (error) {
    note(`Could not load M-PESA prompts: ${error.message}`);
  }
}

export function onPrompt(prompt) {
  if (!samePhone(prompt.phone, state.phone)) return;
  if (prompt.status === "pending") {
    show(prompt);
  } else if (current && current.checkout_request_id === prompt.checkout_request_id) {
    hidePrompt();
    note(`M-PESA request ${OUTCOMES[prompt.status] || prompt.status}.`);
  }
}

function show(prompt) {
  if (current === null) returnFocus = document.activeElement;
  current = prompt;
  const amount = Number(prompt.amount).toLocaleString("en-KE");
  $("stk-text").textContent =
    `Do you want to pay KES ${amount} to ${prompt.business_short_code} ` +
    `for account ${prompt.account_reference}? Enter M-PESA PIN`;
  $("stk-error").textContent = "";
  $("stk-pin").value = "";
  $("stk").hidden = false;
  $("device").classList.add("prompting");
  $("stk-pin").focus();
  clearInterval(timer);
  const timeout = state.config.prompt_timeout_seconds;
  const tick = () => {
    const left = Math.max(0, Math.round(timeout - (Date.now() - Date.parse(prompt.created_at)) / 1000));
    $("stk-timer").textContent = timeout ? `Times out in ${left} s` : "";
  };
  tick();
  timer = setInterval(tick, 1000);
}

export function hidePrompt() {
  clearInterval(timer);
  const wasOpen = current !== null;
  current = null;
  $("stk").hidden = true;
  $("device").classList.remove("prompting");
  if (wasOpen && returnFocus && document.contains(returnFocus)) returnFocus.focus({ preventScroll: true });
}

async function answer(action) {
  if (!current) return;
  if (action === "approve" && !/^\d{4}$/.test($("stk-pin").value)) {
    $("stk-error").textContent = "Enter your 4-digit M-PESA PIN.";
    $("stk-pin").focus();
    return;
  }
  const path = `${SANDBOX}/prompts/${encodeURIComponent(current.checkout_request_id)}`;
  try {
    onPrompt(await postJson(path, { action }));
  } catch (error) {
    hidePrompt();
    note(`M-PESA: ${error.message}`);
  }
}

export function wirePrompt() {
  $("stk-form").addEventListener("submit", (event) => {
    event.preventDefault();
    answer("approve");
  });
  $("stk-cancel").addEventListener("click", () => answer("cancel"));
  $("stk-wrong-pin").addEventListener("click", () => answer("wrong_pin"));
  $("stk-timeout").addEventListener("click", () => answer("timeout"));
  $("stk-pin").addEventListener("input", () => { $("stk-error").textContent = ""; });
  $("stk").addEventListener("keydown", (event) => {
    if (event.key === "Escape") answer("cancel");
  });
}
