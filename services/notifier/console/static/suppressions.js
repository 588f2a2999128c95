// False matches, for supervisors (and auditors, read-only): the suppressions of the country's
// posts, a duty officer's proposals to confirm, and revocation with a reason.
// Uses app.js's el(), call(), $(), t() and label(); data reaches the page as text only.
"use strict";

const falseMatches = { open: false };
const SUPPRESSION_ROLES = ["supervisor", "auditor"];

const SUPPRESSION_STATES = {
  pending: () => t("waiting for a supervisor"),
  active: () => t("suppressed"),
  revoked: () => t("revoked"),
};

// Called by app.js's start(): the button shows for the roles that may see the list.
function offerSuppressions() {
  const may = state.me && SUPPRESSION_ROLES.includes(state.me.role);
  $("false-matches").hidden = !may;
  if (falseMatches.open) closeSuppressions();
}

function toggleSuppressions() {
  if (falseMatches.open) return closeSuppressions();
  falseMatches.open = true;
  for (const node of document.querySelectorAll("[data-inbox]")) node.hidden = true;
  $("suppressions").hidden = false;
  $("false-matches").textContent = t("Back to alerts");
  loadSuppressions();
}

function closeSuppressions() {
  falseMatches.open = false;
  $("suppressions").hidden = true;
  $("suppression-list").replaceChildren();
  $("false-matches").textContent = t("False matches");
  if (state.me && state.me.role === "auditor") return showAudit();
  for (const node of document.querySelectorAll("[data-inbox]")) node.hidden = false;
}

async function loadSuppressions() {
  const wanted = $("sf-state").value;
  const query = wanted ? "?state=" + encodeURIComponent(wanted) : "";
  $("suppression-note").textContent = "";
  try {
    const data = await call("GET", "/suppressions" + query);
    $("suppression-list").replaceChildren(...data.suppressions.map(suppressionItem));
    $("suppression-empty").hidden = data.suppressions.length > 0;
  } catch (err) {
    $("suppression-note").textContent = err.message;
  }
}

function suppressionItem(s) {
  const who = s.identity;
  const name = [who.surname, who.given_names].filter(Boolean).join(", ");
  const stateWords = s.state === "active" && !s.silences ? t("expired") : SUPPRESSION_STATES[s.state]();
  const item = el("li", { cls: "suppression s-" + s.state, "data-suppression": s.suppression_id },
    el("div", { cls: "l2" },
      el("span", { cls: "name", text: name }),
      el("span", { cls: "mono", text: who.date_of_birth || "" }),
      el("span", { cls: "mono", text: `${who.issuing_state} ${who.document_number}` }),
      el("strong", { cls: "state", text: stateWords })),
    el("div", { cls: "l3 muted" },
      el("span", { text: t("Entry {entry} ({list})", { entry: s.entry_id, list: label(s.list) }) }),
      el("span", { text: t("Answered false match: {who}", { who: s.reported_by }) }),
      s.confirmed_by ? el("span", { text: t("Confirmed by {who}", { who: s.confirmed_by }) }) : null,
      s.times.expires_at && s.state === "active"
        ? el("span", { text: t("Until {when}", { when: when(s.times.expires_at) }) }) : null,
      s.revoked_by ? el("span", { text: t("Revoked by {who}: {reason}", { who: s.revoked_by, reason: s.revoke_reason || "" }) }) : null),
    s.comment ? el("p", { cls: "comment", text: s.comment }) : null);
  if (state.me.role === "supervisor" && s.state !== "revoked") item.append(suppressionActions(s));
  return item;
}

function suppressionActions(s) {
  const reason = el("input", { cls: "reason", type: "text", maxlength: 4000,
    placeholder: t("Reason for revoking"), "aria-label": t("Reason for revoking") });
  const revoke = el("button", { type: "button", cls: "revoke", text: t("Revoke") });
  revoke.addEventListener("click", () => changeSuppression(s, "revoke", reason));
  const box = el("div", { cls: "buttons" });
  if (s.state === "pending") {
    const confirm = el("button", { type: "button", cls: "primary confirm", text: t("Confirm: not the listed person") });
    confirm.addEventListener("click", () => changeSuppression(s, "confirm"));
    box.append(confirm);
  }
  box.append(reason, revoke);
  return box;
}

async function changeSuppression(s, action, reasonInput) {
  const body = {};
  if (action === "revoke") {
    body.reason = reasonInput.value.trim();
    if (!body.reason) {
      $("suppression-note").textContent = t("Write the reason first: it goes into the audit trail.");
      reasonInput.focus();
      return;
    }
  }
  try {
    await call("POST", `/suppressions/${encodeURIComponent(s.suppression_id)}/${action}`, body);
    await loadSuppressions();
    $("suppression-note").textContent = t("Recorded.");
  } catch (err) {
    $("suppression-note").textContent = t("Not recorded: {reason}", { reason: err.message });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("false-matches").addEventListener("click", toggleSuppressions);
  // the supervision view draws into the inbox's detail pane: bring the inbox back for it
  $("supervision").addEventListener("click", () => falseMatches.open && closeSuppressions());
  $("sf-state").addEventListener("change", loadSuppressions);
});
