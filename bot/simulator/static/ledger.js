// The side panel: the phone's ledger balances, read every 2 s; changes are highlighted and announced.

import { $, api, el, state } from "./util.js";

const POLL_MS = 2000;
const known = new Map();
let timer = null;

export function resetLedger() {
  known.clear();
  clearTimeout(timer);
}

export async function refreshBalances() {
  clearTimeout(timer);
  const generation = state.generation;
  try {
    if (!document.hidden) {
      const view = await api(`/simulator/api/balances?phone=${encodeURIComponent(state.phone)}`);
      if (generation === state.generation) render(view);
    }
  } catch (error) {
    $("ledger-updated").textContent = `Could not read balances: ${error.message}`;
  } finally {
    if (generation === state.generation) timer = setTimeout(refreshBalances, POLL_MS);
  }
}

function render(view) {
  if (!view.member) {
    $("ledger-who").textContent = `${view.phone} is not registered with ${view.org.name}.`;
    $("ledger-accounts").replaceChildren();
    $("ledger-next").textContent = "";
    $("ledger-recent").replaceChildren();
  } else {
    const who = view.member;
    $("ledger-who").textContent = `${who.name} · ${who.member_no} · ${who.role} · ${view.org.name}`;
    const rows = [];
    const changes = [];
    for (const account of view.accounts) {
      const before = known.get(account.label);
      const changed = before !== undefined && before !== account.minor;
      if (changed) changes.push(`${account.label} now ${account.text}`);
      known.set(account.label, account.minor);
      rows.push(el("dt", { text: account.label }));
      rows.push(el("dd", {
        class: changed ? "changed" : null, "data-kind": account.kind, "data-minor": String(account.minor),
        text: account.text,
      }));
    }
    $("ledger-accounts").replaceChildren(...rows);
    if (changes.length) $("ledger-announce").textContent = changes.join("; ");
    const next = view.next_installment;
    $("ledger-next").textContent = next ? `Next installment: ${next.text} due ${next.due_date} (${next.loan})` : "";
    $("ledger-recent").replaceChildren(...view.recent.map((line) =>
      el("li", {}, el("span", { text: line.memo || "—" }), el("span", { class: "amount", text: line.text }))));
  }
  $("ledger-books").textContent = view.books_balanced
    ? "Books balanced: every transaction's entries sum to zero."
    : "Warning: the trial balance is not zero.";
  $("ledger-books").classList.toggle("bad", !view.books_balanced);
  $("ledger-updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

export function wireLedger() {
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.phone) refreshBalances();
  });
}
