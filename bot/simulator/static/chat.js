// WhatsApp and SMS threads: render what the sandbox outbox received, send as the phone.

import { $, el, postJson, smsLabel, state, timeOf } from "./util.js";

function bubble(threadId, direction, children, meta) {
  const item = el("li", { class: `bubble ${direction}` }, ...children, el("span", { class: "meta", text: meta }));
  $(threadId).append(item);
  item.scrollIntoView({ block: "end", behavior: "smooth" });
  return item;
}

function failure(item) {
  return item && item.status === "failed" ? ` · not delivered (${item.error || "failed"})` : "";
}

function direction(item) {
  return item && item.status === "failed" ? "in failed" : "in";
}

function replyButton(text, reply, shown) {
  return el("button", {
    type: "button", class: "wa-button", "data-reply-id": reply.id, text,
    onclick: () => sendWhatsApp({ reply }, shown),
  });
}

function interactive(box) {
  const parts = [];
  if (box.header && box.header.text) parts.push(el("strong", { class: "wa-header", text: box.header.text }));
  parts.push(el("p", { class: "wa-body", text: box.body.text }));
  if (box.footer && box.footer.text) parts.push(el("small", { class: "wa-footer", text: box.footer.text }));
  if (box.type === "button") {
    const row = el("div", { class: "wa-buttons", role: "group", "aria-label": "Reply buttons" });
    for (const button of box.action.buttons) {
      const { id, title } = button.reply;
      row.append(replyButton(title, { type: "button_reply", id, title }, title));
    }
    parts.push(row);
  } else if (box.type === "list") {
    parts.push(el("button", {
      type: "button", class: "wa-button wa-list-open", text: `☰ ${box.action.button}`, onclick: () => openList(box),
    }));
  }
  return parts;
}

function template(item) {
  const parts = [el("p", { class: "wa-body", text: item.body })];
  const components = (item.payload.template && item.payload.template.components) || [];
  for (const component of components.filter((c) => c.type === "button")) {
    for (const parameter of component.parameters || []) {
      // The button's words live in the approved template, not in the message; only its payload is here.
      if (parameter.payload) {
        const reply = { type: "button", id: parameter.payload, title: "Quick reply" };
        parts.push(replyButton(`Quick reply (${parameter.payload})`, reply, "Quick reply"));
      }
    }
  }
  return parts;
}

export function addWhatsApp(item) {
  const payload = item.payload || {};
  let parts;
  if (payload.type === "interactive") parts = interactive(payload.interactive);
  else if (payload.type === "template") parts = template(item);
  else parts = [el("p", { class: "wa-body", text: item.body })];
  bubble("thread-whatsapp", direction(item), parts, `${timeOf(item.at)}${failure(item)}`);
}

function openList(box) {
  const dialog = $("list-dialog");
  $("list-title").textContent = box.action.button;
  const rows = $("list-rows");
  rows.replaceChildren();
  for (const section of box.action.sections) {
    const group = el("div", { class: "wa-section", role: "group", "aria-label": section.title || box.action.button });
    if (section.title) group.append(el("h4", { text: section.title }));
    for (const row of section.rows) {
      const pick = () => {
        dialog.close();
        sendWhatsApp({ reply: { type: "list_reply", id: row.id, title: row.title } }, row.title);
      };
      group.append(el("button", { type: "button", class: "wa-row", "data-reply-id": row.id, onclick: pick },
        el("span", { class: "row-title", text: row.title }),
        row.description ? el("small", { text: row.description }) : null));
    }
    rows.append(group);
  }
  dialog.showModal();
}

async function send(path, body, mine) {
  try {
    return await postJson(path, { phone: state.phone, ...body });
  } catch (error) {
    mine.classList.add("failed");
    mine.append(el("span", { class: "meta", text: `not sent: ${error.message}` }));
    return null;
  }
}

export function sendWhatsApp(message, shown) {
  const mine = bubble("thread-whatsapp", "out", [el("p", { text: shown })], timeOf());
  return send("/simulator/api/whatsapp", message, mine);
}

export function addIncomingSms(sender, text, item) {
  const meta = `${sender} · ${timeOf(item && item.at)} · ${smsLabel(text)}${failure(item)}`;
  bubble("thread-sms", direction(item), [el("p", { text })], meta);
}

export async function sendSms(text) {
  const mine = bubble("thread-sms", "out", [el("p", { text })], `${timeOf()} · ${smsLabel(text)}`);
  const result = await send("/simulator/api/sms", { text }, mine);
  // Twilio may answer inline with TwiML; those replies never pass through the sandbox.
  for (const reply of (result && result.inline_replies) || []) addIncomingSms("Reply", reply, null);
}

export function clearThreads() {
  $("thread-whatsapp").replaceChildren();
  $("thread-sms").replaceChildren();
}

export function wireChat() {
  $("wa-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("wa-input").value.trim();
    if (!text) return;
    $("wa-input").value = "";
    sendWhatsApp({ text }, text);
  });
  const input = $("sms-input");
  input.addEventListener("input", () => { $("sms-count").textContent = smsLabel(input.value); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("sms-form").requestSubmit();
    }
  });
  $("sms-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    $("sms-count").textContent = smsLabel("");
    sendSms(text);
  });
}
