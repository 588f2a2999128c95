// Duty console. Every piece of data reaches the page through textContent or attributes set by
// the DOM API; the CSP forbids innerHTML-style sinks outright (trusted-types 'none').
"use strict";

const API = "/console/api";
const state = { me: null, rows: [], selected: null, offset: 0, source: null, shown: "", detail: null };
const $ = (id) => document.getElementById(id);

// --- language (the words themselves: words.js) ----------------------------------------------

function preferredLanguage() {
  return localStorage.getItem(LANG_KEY) || (state.me && state.me.language) ||
    (navigator.language || "en").slice(0, 2);
}

// Switching keeps everything the officer has open: the selected alert, filters and comment.
async function switchLanguage(lang) {
  localStorage.setItem(LANG_KEY, lang);
  await loadWords(lang);
  if (!state.me) return;
  showWho();
  if (state.me.role === "analyst") redrawLeads();  // leads.js
  live(state.source && state.source.readyState === EventSource.OPEN);
  render();
  if (state.detail) showDetail(state.detail);
}

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
  if (!res.ok) throw new Error(typeof data.detail === "string" ? t(data.detail) : res.statusText);
  return data;
}

// --- sign-in ------------------------------------------------------------------------------

function showSignIn(message) {
  if (state.source) state.source.close();
  state.me = null;
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("account").focus();
  call("GET", "/session/options").then((options) => {
    $("oidc").hidden = !options.oidc;
    $("oidc").textContent = options.oidc ? t(options.oidc) : "";
  }).catch(() => {});
}

async function signIn(event) {
  event.preventDefault();
  const body = { account: $("account").value.trim(), password: $("password").value };
  $("password").value = "";
  try {
    state.me = await call("POST", "/session", body);
    start();
  } catch (err) {
    showSignIn(err.message === t("unknown account or wrong password")
      ? t("Unknown account or wrong password.") : err.message);
  }
}

async function signOut() {
  try { await call("POST", "/session/end", {}); } finally { showSignIn(t("Signed out.")); }
}

function showWho() {
  const me = state.me;
  $("who").textContent = `${me.name} (${me.account}) · ${t(me.role_label)} · ${me.contact_point} · ${me.country}`;
}

async function start() {
  $("signin").hidden = true;
  $("app").hidden = false;
  if (!localStorage.getItem(LANG_KEY) && state.me.language && state.me.language !== i18n.lang) {
    await loadWords(state.me.language);
  }
  showWho();
  offerSuppressions();  // suppressions.js: supervisors and auditors see false matches
  leaveLeads();  // leads.js: whoever signed in before on this page, the views start afresh
  if (state.me.role === "analyst" && typeof showLeads === "function") return showLeads();
  if (state.me.role === "auditor") return showAudit();
  $("supervision").hidden = state.me.role !== "supervisor";
  connect();
}

// --- supervision (supervisors: escalations and every officer's answers) ---------------------

async function showSupervision() {
  const body = $("detail-body");
  try {
    const data = await call("GET", "/supervision");
    const escalations = data.escalations.map((r) => el("li", {},
      el("span", { cls: "mono", text: r.alert_id + "  " }),
      el("strong", { text: label(r.state) }),
      el("span", { text: " · " + t("level {level}", { level: r.escalation_level }) })));
    const answers = data.answers.map((a) => el("li", {},
      el("span", { cls: "mono muted", text: when(a.when) + "  " }),
      el("strong", { text: `${a.by || a.contact_point}: ${label(a.kind)}` }),
      el("span", { cls: "mono", text: " · " + a.alert_id }),
      a.comment ? el("span", { dir: "auto", text: " — " + a.comment }) : null));
    body.replaceChildren(
      el("h2", { text: t("Escalations and answers") }),
      el("h3", { text: t("Escalated alerts") }),
      escalations.length ? el("ul", { cls: "events" }, ...escalations) : el("p", { cls: "muted", text: t("None.") }),
      el("h3", { text: t("Every officer's answers") }),
      answers.length ? el("ul", { cls: "events" }, ...answers) : el("p", { cls: "muted", text: t("None.") }));
  } catch (err) {
    body.replaceChildren(el("p", { cls: "error", text: err.message }));
  }
}

// --- audit trail (auditors: read-only) -----------------------------------------------------

async function showAudit() {
  for (const node of document.querySelectorAll("[data-inbox]")) node.hidden = true;
  $("audit").hidden = false;
  const list = $("audit-list");
  list.replaceChildren(el("li", { cls: "muted", text: t("Reading the audit trail…") }));
  try {
    const data = await call("GET", "/audit");
    list.replaceChildren(...data.records.map((r) => el("li", { cls: "audit-row" },
      el("span", { cls: "mono muted", text: r.at.replace("T", " ").slice(0, 19) + " UTC  " }),
      el("strong", { text: r.action }), el("span", { text: " · " + r.actor }),
      r.alert_id ? el("span", { cls: "mono", text: " · " + r.alert_id }) : null)));
    if (!data.records.length) list.replaceChildren(el("li", { cls: "muted", text: t("No audit records yet.") }));
  } catch (err) {
    list.replaceChildren(el("li", { cls: "error", text: err.message }));
  }
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
  source.addEventListener("signed-out", () => showSignIn(t("Your session ended.")));
  source.onerror = () => {
    live(false);
    if (source.readyState === EventSource.CLOSED) call("GET", "/session").catch(() => {});
  };
}

function live(on) {
  $("live").dataset.on = on ? "1" : "";
  $("live").textContent = on ? t("live") : t("reconnecting…");
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
  $("count").textContent = t("{shown} of {total}", { shown: rows.length, total: state.rows.length });
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
      el("span", { cls: "badge " + (row.urgency || "low"), text: row.urgency ? label(row.urgency) : t("unknown") }),
      el("span", { cls: "badge", text: label(row.list) || "—" }),
      el("span", { cls: "badge " + row.band, text: row.band ? `${label(row.band)} ${row.score}` : "" }),
      row.subject_minor ? el("span", { cls: "badge minor", text: t("minor") }) : null,
      row.retro ? el("span", { cls: "badge", text: t("retro") }) : null,
      row.outcome ? el("span", { cls: "badge outcome", text: t(row.outcome_words) }) : null,
      row.outcome_overdue ? el("span", { cls: "badge overdue", text: t("outcome overdue") }) : null,
      el("span", { cls: "grow" }),
      el("span", { cls: "state " + row.state, text: label(row.state) })),
    el("div", { cls: "l2" },
      el("span", { cls: "name", dir: "auto", text: row.traveller || t("(details no longer held)") }),
      el("span", { cls: "mono", text: row.document || "" })),
    el("div", { cls: "l3 muted" },
      el("span", { text: [label(row.event_type), row.location].filter(Boolean).join(" · ") }),
      el("span", { cls: "grow" }),
      timer(row),
      el("span", { cls: "when", text: when(row.occurred || row.seen, true) })));
  button.addEventListener("click", () => openDetail(row.alert_id, true));
  return el("li", {}, button);
}

function timer(row) {
  if (row.escalation_due) {
    return el("span", { cls: "timer", "data-due": row.escalation_due });
  }
  if (row.escalation_level > 0 && row.open) {
    return el("span", { cls: "timer soon", text: t("escalated · level {level}", { level: row.escalation_level }) });
  }
  return null;
}

// Deadlines are absolute instants and the clock is the server's: right in any zone.
function tick() {
  const now = Date.now() + state.offset;
  for (const node of document.querySelectorAll("[data-due]")) {
    const left = Math.round((Date.parse(node.dataset.due) - now) / 1000);
    const m = Math.floor(Math.max(left, 0) / 60), s = String(Math.max(left, 0) % 60).padStart(2, "0");
    node.textContent = left > 0 ? t("escalates in {time}", { time: `${m}:${s}` }) : t("escalating…");
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
    state.detail = null;
    $("detail-body").replaceChildren(el("p", { cls: "error", text: err.message }));
    $("answer").hidden = true;
    $("history").replaceChildren();
  }
}

function protection(p) {
  return el("section", { cls: "protection", role: "alert" },
    el("h3", { text: t(p.title) }),
    el("ol", {}, ...p.steps.map((step) => el("li", { text: t(step) }))));
}

function showDetail(d) {
  state.detail = d;
  $("placeholder").hidden = true;
  const head = el("div", { cls: "head" },
    el("h2", { dir: "auto", text: d.traveller || d.document || d.alert_id }),
    el("span", { cls: "badge " + (d.urgency || "low"), text: d.urgency ? label(d.urgency) : t("unknown") }),
    el("span", { cls: "badge", text: label(d.list) }),
    el("span", { cls: "badge " + d.band, text: t("{band} match · score {score}", { band: label(d.band), score: d.score ?? "?" }) }),
    el("span", { cls: "state " + d.state, text: label(d.state) }),
    d.escalation_due ? el("span", { cls: "timer", "data-due": d.escalation_due }) : null,
    el("span", { cls: "mono muted", text: d.alert_id }));
  const parts = d.protection ? [protection(d.protection), head] : [head];
  if (d.occurred) parts.push(el("p", { cls: "when-line mono", text: when(d.occurred) }));
  // The matcher's one-line summary is English; every fact in it is shown translated here.
  if (d.summary && i18n.lang === "en") parts.push(el("p", { cls: "summary", dir: "auto", text: d.summary }));
  const notes = [];
  if (d.action) notes.push(t("Requested action: {action}", { action: label(d.action) }));
  if (d.restricted_to) notes.push(t("Dissemination restricted to {countries}", { countries: d.restricted_to.join(", ") }));
  if (d.retro) notes.push(t("Raised by re-screening a past event against a new entry"));
  if (d.subject_minor) notes.push(t("The subject is a minor"));
  if (notes.length) parts.push(el("p", { cls: "muted", text: notes.join(" · ") }));
  if (!d.held) parts.push(el("p", { cls: "muted", text: t("The alert's details are no longer held here.") }));
  if (d.held) {
    parts.push(el("div", { cls: "sides" },
      card(t("What the event says"), d.event, "event-side"), card(t("What the watchlist says"), d.entry, "entry-side")));
  }
  if (d.explanation.length) parts.push(el("h3", { text: t("Why the system raised it") }), whyTable(d.explanation));
  $("detail-body").replaceChildren(...parts);
  $("answer").hidden = false;
  $("answer").dataset.target = d.alert_id;
  for (const b of $("answer").querySelectorAll("button")) b.disabled = !d.can_act || d.state === "cancelled";
  $("answer-note").textContent = d.can_act ? "" :
    t("This alert was not addressed to your contact point: you can read it, not answer it.");
  showOutcomeChoice(d);
  $("history").replaceChildren(...history(d));
  tick();
}

function whyTable(items) {
  const head = el("tr", {}, ...[t("Field"), t("Event says"), t("Watchlist says"), t("In plain words"), t("Score")]
    .map((text) => el("th", { scope: "col", text })));
  const body = items.map((i) => el("tr", { cls: i.strength },
    el("th", { scope: "row", text: t(i.field) }),
    el("td", { cls: "val", dir: "auto", text: i.event ?? "—" }),
    el("td", { cls: "val", dir: "auto", text: i.entry ?? "—" }),
    el("td", { cls: "how", text: t(i.how) }),
    el("td", { cls: "score" }, el("meter", { min: 0, max: 1, low: 0.6, high: 0.9, optimum: 1, value: i.score,
      title: String(i.score) }), el("span", { cls: "mono", text: " " + i.score }))));
  return el("table", { cls: "why" }, el("thead", {}, head), el("tbody", {}, ...body));
}

// (label msgid, value, kind): a code is translated as a label, a time is a post/UTC stamp, an
// age a bare number (its label says what it is; no plural forms needed).
function card(title, triples, cls) {
  const dl = el("dl", {});
  for (const [name, value, kind] of triples) {
    if (value === null || value === undefined || value === "") continue;
    const text = kind === "code" ? label(value) : kind === "time" ? when(value) : String(value);
    dl.append(el("dt", { text: t(name) }),
      el("dd", { cls: kind === "mono" || kind === "time" ? "mono" : null, dir: "auto", text }));
  }
  return el("div", { cls: "card " + cls }, el("h3", { text: title }), dl);
}

// The outcome (arrested, located...): given by the country of the hit, sent to the issuer.
function showOutcomeChoice(d) {
  $("outcome-box").hidden = !d.can_give_outcome;
  $("btn-outcome").disabled = !d.can_give_outcome || d.state === "cancelled";
  // No code is chosen for the officer: a slip must not report "arrested" for a child.
  const none = el("option", { value: "", text: t("Choose the outcome"), disabled: true, selected: !d.outcome });
  $("outcome").replaceChildren(none, ...d.outcome_codes.map((c) =>
    el("option", { value: c.code, text: t(c.words), selected: c.code === d.outcome })));
}

function reports(d) {
  if (!d.reports.length) return [];
  return [el("h3", { text: t("Hit reports") }), el("ul", { cls: "events reports" }, ...d.reports.map((r) =>
    el("li", { "data-report": r.report_id },
      el("span", { cls: "mono muted", text: when(r.when) + "  " }),
      el("strong", { cls: "outcome", text: `${r.country}: ${t(r.words)}` }),
      el("span", { cls: "muted", text: " · " + r.answered_by }),
      r.comment ? el("span", { dir: "auto", text: " — " + r.comment }) : null)))];
}

function history(d) {
  const out = reports(d);
  if (d.acks.length) {
    out.push(el("h3", { text: t("Answers") }), el("ul", { cls: "events" }, ...d.acks.map((a) =>
      el("li", {}, el("span", { cls: "mono muted", text: when(a.when) + "  " }),
        el("strong", { text: `${a.by || a.contact_point}: ${label(a.kind)}` }),
        a.comment ? el("span", { dir: "auto", text: " — " + a.comment }) : null))));
  }
  if (d.deliveries.length) {
    out.push(el("h3", { text: t("Deliveries to your country") }), el("ul", { cls: "events" },
      ...d.deliveries.map((n) => el("li", {},
        el("span", { cls: "mono muted", text: when(n.updated) + "  " }),
        el("span", { text: `${n.recipient} · ${label(n.channel)} · ${label(n.notice)}` +
          (n.level ? " " + t("(level {level})", { level: n.level }) : "") + ` · ${label(n.state)}` })))));
  }
  return out;
}

async function answer(event) {
  event.preventDefault();
  const action = event.submitter ? event.submitter.dataset.action : "ack";
  const comment = $("comment").value.trim();
  if (!comment) {
    $("answer-note").textContent = t("Write a comment first: it goes into the audit trail.");
    $("comment").focus();
    return;
  }
  const body = action === "outcome" ? { outcome: $("outcome").value, comment } : { comment };
  try {
    showDetail(await call("POST", `/alerts/${encodeURIComponent($("answer").dataset.target)}/${action}`, body));
    $("comment").value = "";
    $("answer-note").textContent = t("Recorded.");
  } catch (err) {
    $("answer-note").textContent = t("Not recorded: {reason}", { reason: err.message });
  }
}

// --- keyboard -----------------------------------------------------------------------------

function onKey(e) {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName);
  if (typing || e.ctrlKey || e.metaKey || e.altKey || $("app").hidden) return;
  if (state.me && state.me.role === "analyst") return leadKey(e);  // leads.js
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

document.addEventListener("DOMContentLoaded", async () => {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("supervision").addEventListener("click", showSupervision);
  $("answer").addEventListener("submit", answer);
  for (const id of ["f-list", "f-band", "f-state"]) $(id).addEventListener("change", render);
  for (const select of document.querySelectorAll(".lang")) {
    select.addEventListener("change", () => switchLanguage(select.value));
  }
  document.addEventListener("keydown", onKey);
  setInterval(tick, 1000);
  await loadWords(preferredLanguage()).catch(() => {});
  call("GET", "/session").then((me) => { state.me = me; start(); }).catch(() => showSignIn());
});
