// Leads view, for the analyst role only: the leads of the analyst's country with filters, a
// lead's evidence in time order and its link chart (cytoscape.js, vendored), and exports.
// Uses app.js's el(), call(), $() and t(); data reaches the page as text only, as there.
"use strict";

const leads = { rows: [], selected: null, detail: null, chart: null };

const PATTERNS = {
  serial_escort: () => t("Serial escort"),
  associate_of_listed: () => t("Associate of a listed person"),
  document_many_identities: () => t("One document, several identities"),
  identity_many_documents: () => t("One person, several documents"),
  minor_repeated_crossings: () => t("Minor crossing repeatedly"),
  flow_surge: () => t("Flow surge"),
};
const patternName = (p) => (PATTERNS[p] ? PATTERNS[p]() : p);

// Shapes tell the kinds apart without colour; colours follow app.css.
const CHART_STYLE = [
  { selector: "node", style: {
    label: "data(label)", color: "#e6e9ee", "font-size": 11, "text-valign": "bottom",
    "text-margin-y": 4, "text-wrap": "wrap", "text-max-width": 160, width: 26, height: 26,
    "background-color": "#5aa9ff", "border-width": 2, "border-color": "#14171c" } },
  { selector: "node[kind = 'listed']", style: { shape: "octagon", "background-color": "#ff5a52" } },
  { selector: "node[kind = 'document']", style: { shape: "round-rectangle", "background-color": "#f0a73a" } },
  { selector: "node[kind = 'party']", style: { shape: "diamond", "background-color": "#4cc27a" } },
  { selector: "node[kind = 'transport']", style: { shape: "triangle", "background-color": "#b48cff" } },
  { selector: "edge", style: {
    label: "data(label)", "font-size": 9, color: "#97a1ae", "text-rotation": "autorotate",
    "text-background-color": "#14171c", "text-background-opacity": 0.8,
    "text-background-padding": 1, width: 1.5, "line-color": "#5b6676",
    "curve-style": "bezier", "target-arrow-shape": "triangle",
    "target-arrow-color": "#5b6676" } },
  { selector: ":selected", style: { "border-color": "#ffd24d", "line-color": "#ffd24d" } },
];

function showLeads() {
  for (const node of document.querySelectorAll("[data-inbox]")) node.hidden = true;
  $("leads").hidden = false;
  loadLeads();
}

function leaveLeads() {
  if (leads.chart) leads.chart.destroy();
  Object.assign(leads, { rows: [], selected: null, detail: null, chart: null });
  for (const id of ["lead-list", "lead-body", "lead-subjects", "lead-evidence", "lead-chart-text"]) {
    $(id).replaceChildren();
  }
  for (const id of ["lead-chart", "lead-chart-head", "lead-evidence-head"]) $(id).hidden = true;
  $("lead-placeholder").hidden = false;
  $("leads").hidden = true;
  for (const node of document.querySelectorAll("[data-inbox]")) node.hidden = false;
}

function leadFilters() {
  const q = new URLSearchParams();
  const since = $("lf-since").value, until = $("lf-until").value;
  const wanted = {
    pattern: $("lf-pattern").value,
    min_score: $("lf-score").value,
    country: $("lf-country").value.trim().toUpperCase(),
    since: since ? since + "T00:00:00Z" : "",
    until: until ? until + "T23:59:59Z" : "",  // the whole last day
  };
  for (const [k, v] of Object.entries(wanted)) if (v) q.set(k, v);
  return q;
}

async function loadLeads() {
  const q = leadFilters();
  $("lf-export").href = `${API}/leads/export?${q}${q.size ? "&" : ""}format=csv`;
  try {
    const data = await call("GET", "/leads?" + q);
    leads.rows = data.leads;
    $("lf-error").textContent = "";
  } catch (err) {
    leads.rows = [];
    $("lf-error").textContent = err.message;
  }
  renderLeads();
}

function renderLeads() {
  $("lead-list").replaceChildren(...leads.rows.map(leadRow));
  $("lead-empty").hidden = leads.rows.length > 0;
  $("lead-count").textContent = t("{n} leads", { n: leads.rows.length });
}

// After a change of language: the same list and lead, in the new words (nothing is fetched).
function redrawLeads() {
  renderLeads();
  if (leads.detail) showLead(leads.detail);
}

function leadRow(row) {
  const button = el("button", {
    type: "button", cls: "row lead-row", "data-lead": row.lead_id,
    "aria-current": row.lead_id === leads.selected ? "true" : "false",
  },
    el("div", { cls: "l1" },
      el("span", { cls: "badge pattern", text: patternName(row.pattern) }),
      el("span", { cls: "badge", text: t("score {score}", { score: row.score }) }),
      row.restricted_to ? el("span", { cls: "badge restricted", text: t("restricted") }) : null,
      el("span", { cls: "grow" }),
      el("span", { cls: "mono", text: row.country })),
    el("div", { cls: "l2" }, el("span", { cls: "summary", dir: "auto", text: row.summary })),
    el("div", { cls: "l3 muted" },
      el("span", { text: t("{n} events", { n: row.events }) }),
      el("span", { cls: "grow" }),
      el("span", { text: when(row.updated) })));
  button.addEventListener("click", () => openLead(row.lead_id));
  return el("li", {}, button);
}

async function openLead(leadId) {
  leads.selected = leadId;
  for (const b of document.querySelectorAll(".lead-row")) {
    b.setAttribute("aria-current", b.dataset.lead === leadId ? "true" : "false");
  }
  try {
    showLead(await call("GET", "/leads/" + encodeURIComponent(leadId)));
  } catch (err) {
    $("lead-body").replaceChildren(el("p", { cls: "error", text: err.message }));
    for (const id of ["lead-subjects", "lead-evidence"]) $(id).replaceChildren();
    $("lead-evidence-head").hidden = true;
    leads.detail = null;
    drawChart({ nodes: [], edges: [] });
  }
}

function showLead(d) {
  leads.detail = d;
  $("lead-placeholder").hidden = true;
  const base = `${API}/leads/${encodeURIComponent(d.lead_id)}/export?format=`;
  const head = el("div", { cls: "head" },
    el("h2", { text: patternName(d.pattern) }),
    el("span", { cls: "badge", text: t("score {score}", { score: d.score }) }),
    el("span", { cls: "badge", text: d.country }),
    el("span", { cls: "mono muted", text: d.lead_id }),
    el("span", { cls: "grow" }),
    el("a", { cls: "button", id: "lead-export-json", href: base + "json", download: "", text: t("Export JSON") }),
    el("a", { cls: "button", id: "lead-export-csv", href: base + "csv", download: "", text: t("Export CSV") }));
  const notes = [t("First seen {at}", { at: when(d.created) }), t("last updated {at}", { at: when(d.updated) })];
  if (d.restricted_to) notes.push(t("Restricted to {countries}", { countries: d.restricted_to.join(", ") }));
  const parts = [head, el("p", { cls: "summary", dir: "auto", text: d.summary }),
    el("p", { cls: "muted", text: notes.join(" · ") })];
  $("lead-body").replaceChildren(...parts);
  const more = [];
  if (d.subjects.length) more.push(el("h3", { text: t("Subjects") }), subjectsTable(d.subjects));
  if (d.aggregate) more.push(el("h3", { text: t("Counts") }), aggregateCard(d.aggregate));
  $("lead-subjects").replaceChildren(...more);
  $("lead-evidence-head").hidden = false;
  $("lead-evidence").replaceChildren(...d.evidence.map(evidenceItem));
  drawChart(d.chart);
}

function subjectsTable(subjects) {
  const cols = [t("Role"), t("Name"), t("Date of birth"), t("Sex"), t("Nationality"), t("Document"), t("Watchlist entry")];
  const head = el("tr", {}, ...cols.map((c) => el("th", { scope: "col", text: c })));
  const body = subjects.map((s) => el("tr", {},
    el("td", { text: s.role }), el("td", { cls: "val", dir: "auto", text: s.name ?? "—" }),
    el("td", { cls: "mono", text: s.date_of_birth ?? "" }), el("td", { text: s.sex ?? "" }),
    el("td", { text: s.nationality ?? "" }), el("td", { cls: "mono", text: s.document ?? "" }),
    el("td", { cls: "mono", text: s.entry_id ?? "" })));
  return el("table", { cls: "why subjects" }, el("thead", {}, head), el("tbody", {}, ...body));
}

function aggregateCard(a) {
  const rows = [[t("Reported in"), a.country], [t("Destination"), a.destination],
    [t("Sex"), a.sex], [t("Age band"), a.age_band], [t("Week from"), a.week_start],
    [t("Crossings that week"), a.count], [t("Usual (median)"), a.baseline_median],
    [t("Robust z"), a.statistic.toFixed(1)]];
  const dl = el("dl", {});
  for (const [label, value] of rows) {
    if (value === null || value === undefined) continue;
    dl.append(el("dt", { text: label }), el("dd", { text: String(value) }));
  }
  return el("div", { cls: "card" }, dl);
}

function evidenceItem(e) {
  const where = [e.country, e.party && t("party {id}", { id: e.party }), e.transport,
    e.document && t("document {number}", { number: e.document })].filter(Boolean).join(" · ");
  return el("li", { "data-event": e.event_id },
    el("span", { cls: "mono muted", text: when(e.when) }),
    el("strong", { dir: "auto", text: e.subject ? ` ${e.subject}` : "" }),
    el("span", { dir: "auto", text: " — " + e.why }),
    where ? el("div", { cls: "muted", text: where }) : null);
}

function drawChart(chart) {
  if (leads.chart) leads.chart.destroy();
  leads.chart = null;
  const box = $("lead-chart");
  const text = $("lead-chart-text");
  box.hidden = !chart.nodes.length;
  $("lead-chart-head").hidden = box.hidden;
  text.replaceChildren();
  if (box.hidden) return;
  const labels = Object.fromEntries(chart.nodes.map((n) => [n.id, n.label]));
  // The same links as words: for screen readers, and to copy into a report.
  text.append(...chart.edges.map((e) => el("li", {
    text: `${labels[e.source]} → ${labels[e.target]}: ${e.label}`,
  })));
  leads.chart = cytoscape({
    container: box,
    elements: [...chart.nodes.map((data) => ({ data })), ...chart.edges.map((data) => ({ data }))],
    style: CHART_STYLE,
    // The lead's first subject (the escort, the document...) on top, what links to it below.
    layout: { name: "breadthfirst", roots: chart.root ? [chart.root] : undefined, directed: false,
      spacingFactor: 1.2, nodeDimensionsIncludeLabels: true, padding: 16, animate: false },
    minZoom: 0.2, maxZoom: 3,
  });
}

// The inbox's keys, for leads: j/k move and open, / goes to the filters.
function leadKey(e) {
  if (e.key === "j" || e.key === "k") {
    const rows = [...document.querySelectorAll(".lead-row")];
    if (!rows.length) return;
    let i = rows.findIndex((b) => b.dataset.lead === leads.selected);
    i = e.key === "j" ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0);
    rows[i].focus();
    openLead(rows[i].dataset.lead);
  } else if (e.key === "/") {
    e.preventDefault();
    $("lf-pattern").focus();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("lead-filters").addEventListener("change", loadLeads);
  $("lead-filters").addEventListener("submit", async (e) => {
    e.preventDefault();
    await loadLeads();  // and the open lead again, with what it has grown by
    if (leads.rows.some((r) => r.lead_id === leads.selected)) openLead(leads.selected);
  });
});
