// The console's words and times, shared by every console script (app.js, leads.js...).
//
// Words: one gettext catalogue per language (locale/), served as JSON by /console/i18n/{lang}.
// Every word a page shows goes through t("English msgid", {vars}); Babel extracts the msgids
// from the console's scripts (babel.cfg), and from the page's data-t elements and
// data-t-<attribute> attributes, which applyWords() fills in.
"use strict";

const i18n = { lang: "en", messages: {}, labels: {}, languages: {} };
const LANG_KEY = "relay.console.lang";

function t(msgid, vars) {
  const text = i18n.messages[msgid] || msgid;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// A wire code (list, action, state...) in words: its English label from the server, translated.
const label = (code) => (code ? t(i18n.labels[code] || String(code).replaceAll("_", " ")) : "");

async function loadWords(lang) {
  const res = await fetch("/console/i18n/" + encodeURIComponent(lang), { credentials: "same-origin" });
  const data = await res.json();
  Object.assign(i18n, { lang: data.lang, messages: data.messages, labels: data.labels, languages: data.languages });
  document.documentElement.lang = i18n.lang;
  applyWords();
}

function applyWords() {
  document.title = "notice-relay · " + t("duty console");
  for (const node of document.querySelectorAll("[data-t]")) {
    if (node.dataset.msgid === undefined) node.dataset.msgid = node.textContent.trim().replace(/\s+/g, " ");
    node.textContent = t(node.dataset.msgid);
  }
  for (const node of document.querySelectorAll("*")) {
    for (const attr of node.getAttributeNames()) {
      if (attr.startsWith("data-t-")) node.setAttribute(attr.slice(7), t(node.getAttribute(attr)));
    }
  }
  for (const select of document.querySelectorAll(".lang")) {
    select.replaceChildren(...Object.entries(i18n.languages).map(([code, name]) =>
      el("option", { value: code, text: name, selected: code === i18n.lang })));
  }
}

// A time at the border post, with its UTC offset, and UTC beside it. `short` drops the date
// when both are on the same day.
function when(stamp, short) {
  if (!stamp) return "";
  const same = stamp.local.slice(0, 10) === stamp.utc.slice(0, 10);
  const local = short ? stamp.local.slice(11, 16) : stamp.local;
  const utc = short && same ? stamp.utc.slice(11, 16) : stamp.utc;
  if (stamp.offset === "+00:00" && !stamp.zone) return `${utc} UTC`;  // the post's zone unknown
  return `${local} (UTC${stamp.offset}) · ${utc} UTC`;
}
