// Duty console. Every piece of data reaches the page through textContent or attributes set by
// the DOM API; the CSP forbids innerHTML-style sinks outright (trusted-types 'none').
"use strict";

const API = "/console/api";
const state = { me: null, rows: [], selected: null, offset: 0, source: null, shown: "" };
const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else if (k === "cls") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

const words = (s) => (s ? String(s).replaceAll("_", " ") : "");
const when = (iso) => (iso ? iso.slice(0, 19).replace("T", " ") + " UTC" : "");

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.me) headers["X-CSRF-Token"] = state.me.csrf;
  const res = await fetch(API + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== "/session") showSignIn();
  if (!res.ok) throw new Error(data.detail || res.statusText);
  return data;
}

// --- sign-in ------------------------------------------------------------------------------

function showSignIn(message) {
  if (state.source) state.source.close();
  state.me = null;
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("key").focus();
}

async function signIn(event) {
  event.preventDefault();
  try {
    state.me = await call("POST", "/session", { key: $("key").value });
    $("key").value = "";
    start();
  } catch (err) {
    showSignIn(err.message === "unknown key" ? "That key is not known." : err.message);
  }
}

async function signOut() {
  try { await call("POST", "/session/end", {}); } finally { showSignIn("Signed out."); }
}

function start() {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("who").textContent = `${state.me.contact_point} · ${state.me.country}`;
  connect();
}

// --- live list ----------------------------------------------------------------------------

function connect() {
  if (state.source) state.source.close();
  const source = new EventSource(API + "/stream");
  state.source = source;
  source.addEventListener("inbox", (e) => {
    const snap = JSON.parse(e.data);
    state.offset = Date.parse(snap.now) - Date.now();
    state.rows = snap.alerts;
    live(true);
    render();
  });
  source.addEventListener("signed-out", () => showSignIn("Your session ended."));
  source.onerror = () => {
    live(false);
    if (source.readyState === EventSource.CLOSED) call("GET", "/session").catch(() => {});
  };
}

function live(on) {
  $("live").textContent = on ? "live" : "reconnecting…";
  $("live").className = "live " + (on ? "on" : "off");
}

function matches(row) {
  const list = $("f-list").value, band = $("f-band").value, st = $("f-state").value;
  if (list && row.list !== list) return false;
  if (band && row.band !== band) return false;
  if (st === "active") return row.open;
  return !st || row.state === st;
}

function render() {
  const rows = state.rows.filter(matches);
  const list = $("list");
  list.replaceChildren(...rows.map(rowItem));
  $("empty").hidden = rows.length > 0;
  $("count").textContent = `${rows.length} of ${state.rows.length}`;
  tick();
  const current = state.rows.find((r) => r.alert_id === state.selected);
  const mark = JSON.stringify(current || null);
  if (state.selected && mark !== state.shown) {
    state.shown = mark;
    openDetail(state.selected, false);
  }
}

function rowItem(row) {
  const cls = ["row", "u-" + (row.urgency || "low"), "b-" + (row.band || "strong")];
  if (!row.open) cls.push("closed");
  const button = el("button", {
    type: "button", cls: cls.join(" "), "data-alert": row.alert_id,
    "aria-current": row.alert_id === state.selected ? "true" : "false",
  },
    el("div", { cls: "l1" },
      el("span", { cls: "badge " + (row.urgency || "low"), text: row.urgency || "unknown" }),
      el("span", { cls: "badge", text: words(row.list) || "—" }),
      el("span", { cls: "badge " + row.band, text: row.band ? `${row.band} ${row.score}` : "" }),
      row.subject_minor ? el("span", { cls: "badge minor", text: "minor" }) : null,
      row.retro ? el("span", { cls: "badge", text: "retro" }) : null,
      el("span", { cls: "grow" }),
      el("span", { cls: "state " + row.state, text: words(row.state) })),
    el("div", { cls: "l2" },
      el("span", { cls: "name", dir: "auto", text: row.traveller || "(details no longer held)" }),
      el("span", { cls: "mono", text: row.document || "" })),
    el("div", { cls: "l3 muted" },
      el("span", { text: [words(row.event_type), row.location].filter(Boolean).join(" · ") }),
      el("span", { cls: "grow" }),
      timer(row),
      el("span", { text: when(row.occurred_at || row.first_seen).slice(11) })));
  button.addEventListener("click", () => openDetail(row.alert_id, true));
  return el("li", {}, button);
}

function timer(row) {
  if (row.escalation_due) {
    return el("span", { cls: "timer", "data-due": row.escalation_due });
  }
  if (row.escalation_level > 0 && row.open) {
    return el("span", { cls: "timer soon", text: `escalated · level ${row.escalation_level}` });
  }
  return null;
}

function tick() {
  const now = Date.now() + state.offset;
  for (const node of document.querySelectorAll("[data-due]")) {
    const left = Math.round((Date.parse(node.dataset.due) - now) / 1000);
    const m = Math.floor(Math.max(left, 0) / 60), s = String(Math.max(left, 0) % 60).padStart(2, "0");
    node.textContent = left > 0 ? `escalates in ${m}:${s}` : "escalating…";
    node.classList.toggle("soon", left < 60);
  }
}

// --- detail -------------------------------------------------------------------------------

async function openDetail(alertId, focus) {
  state.selected = alertId;
  state.shown = JSON.stringify(state.rows.find((r) => r.alert_id === alertId) || null);
  for (const b of document.querySelectorAll(".row")) {
    b.setAttribute("aria-current", b.dataset.alert === alertId ? "true" : "false");
  }
  try {
    showDetail(await call("GET", "/alerts/" + encodeURIComponent(alertId)));
    if (focus) $("detail").focus();
  } catch (err) {
    $("detail-body").replaceChildren(el("p", { cls: "error", text: err.message }));
    $("answer").hidden = true;
    $("history").replaceChildren();
  }
}

function showDetail(d) {
  $("placeholder").hidden = true;
  const head = el("div", { cls: "head" },
    el("h2", { dir: "auto", text: d.traveller || d.document || d.alert_id }),
    el("span", { cls: "badge " + (d.urgency || "low"), text: d.urgency || "unknown" }),
    el("span", { cls: "badge", text: words(d.list) }),
    el("span", { cls: "badge " + d.band, text: `${d.band || ""} match · score ${d.score ?? "?"}` }),
    el("span", { cls: "state " + d.state, text: words(d.state) }),
    d.escalation_due ? el("span", { cls: "timer", "data-due": d.escalation_due }) : null,
    el("span", { cls: "mono muted", text: d.alert_id }));
  const parts = [head];
  if (d.summary) parts.push(el("p", { cls: "summary", dir: "auto", text: d.summary }));
  const notes = [];
  if (d.action) notes.push(`Requested action: ${words(d.action)}`);
  if (d.restricted_to) notes.push(`Dissemination restricted to ${d.restricted_to.join(", ")}`);
  if (d.retro) notes.push("Raised by re-screening a past event against a new entry");
  if (d.subject_minor) notes.push("The subject is a minor");
  if (notes.length) parts.push(el("p", { cls: "muted", text: notes.join(" · ") }));
  if (!d.held) parts.push(el("p", { cls: "muted", text: "The alert's details are no longer held here." }));
  if (d.explanation.length) parts.push(el("h3", { text: "Why the system raised it" }), whyTable(d.explanation));
  if (d.held) {
    parts.push(el("div", { cls: "sides" },
      card("What the event says", d.event), card("What the watchlist says", d.entry)));
  }
  $("detail-body").replaceChildren(...parts);
  $("answer").hidden = false;
  $("answer").dataset.target = d.alert_id;
  for (const b of $("answer").querySelectorAll("button")) b.disabled = !d.can_act || d.state === "cancelled";
  $("answer-note").textContent = d.can_act ? "" :
    "This alert was not addressed to your contact point: you can read it, not answer it.";
  $("history").replaceChildren(...history(d));
  tick();
}

function whyTable(items) {
  const head = el("tr", {}, ...["Field", "Event says", "Watchlist says", "In plain words", "Score"]
    .map((t) => el("th", { scope: "col", text: t })));
  const body = items.map((i) => el("tr", { cls: i.strength },
    el("th", { scope: "row", text: i.field }),
    el("td", { cls: "val", dir: "auto", text: i.event ?? "—" }),
    el("td", { cls: "val", dir: "auto", text: i.entry ?? "—" }),
    el("td", { cls: "how", text: i.how }),
    el("td", { cls: "score" }, el("meter", { min: 0, max: 1, low: 0.6, high: 0.9, optimum: 1, value: i.score,
      title: String(i.score) }), el("span", { cls: "mono", text: " " + i.score }))));
  return el("table", { cls: "why" }, el("thead", {}, head), el("tbody", {}, ...body));
}

function card(title, pairs) {
  const dl = el("dl", {});
  for (const [label, value, mono] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    dl.append(el("dt", { text: label }), el("dd", { cls: mono ? "mono" : null, dir: "auto", text: value }));
  }
  return el("div", { cls: "card" }, el("h3", { text: title }), dl);
}

function history(d) {
  const out = [];
  if (d.acks.length) {
    out.push(el("h3", { text: "Answers" }), el("ul", { cls: "events" }, ...d.acks.map((a) =>
      el("li", {}, el("span", { cls: "mono muted", text: when(a.at) + "  " }),
        el("strong", { text: `${a.contact_point}: ${words(a.kind)}` }),
        a.comment ? el("span", { dir: "auto", text: " — " + a.comment }) : null))));
  }
  if (d.deliveries.length) {
    out.push(el("h3", { text: "Deliveries to your country" }), el("ul", { cls: "events" },
      ...d.deliveries.map((n) => el("li", {},
        el("span", { cls: "mono muted", text: when(n.updated_at) + "  " }),
        el("span", { text: `${n.recipient} · ${n.channel} · ${words(n.notice)}` +
          (n.level ? ` (level ${n.level})` : "") + ` · ${words(n.state)}` })))));
  }
  return out;
}

async function answer(event) {
  event.preventDefault();
  const action = event.submitter ? event.submitter.dataset.action : "ack";
  const comment = $("comment").value.trim();
  if (!comment) {
    $("answer-note").textContent = "Write a comment first: it goes into the audit trail.";
    $("comment").focus();
    return;
  }
  try {
    showDetail(await call("POST", `/alerts/${encodeURIComponent($("answer").dataset.target)}/${action}`, { comment }));
    $("comment").value = "";
    $("answer-note").textContent = "Recorded.";
  } catch (err) {
    $("answer-note").textContent = "Not recorded: " + err.message;
  }
}

// --- keyboard -----------------------------------------------------------------------------

function onKey(e) {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName);
  if (typing || e.ctrlKey || e.metaKey || e.altKey || $("app").hidden) return;
  if (e.key === "j" || e.key === "k") {
    const rows = [...document.querySelectorAll(".row")];
    if (!rows.length) return;
    let i = rows.findIndex((b) => b.dataset.alert === state.selected);
    i = e.key === "j" ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0);
    rows[i].focus();
    openDetail(rows[i].dataset.alert, false);
  } else if (e.key === "/") {
    e.preventDefault();
    $("f-list").focus();
  } else if (e.key === "c" && !$("answer").hidden) {
    e.preventDefault();
    $("comment").focus();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("answer").addEventListener("submit", answer);
  for (const id of ["f-list", "f-band", "f-state"]) $(id).addEventListener("change", render);
  document.addEventListener("keydown", onKey);
  setInterval(tick, 1000);
  call("GET", "/session").then((me) => { state.me = me; start(); }).catch(() => showSignIn());
});
