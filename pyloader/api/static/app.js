// The planner console: plain DOM, no build step, nothing fetched from
// elsewhere. Every call goes to this server's /v1 API with the token the
// planner signed in with (kept in sessionStorage, gone with the tab).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const state = { client: null, token: null, cursor: null, stream: null, tab: "locations" };

// --- the API ---------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    const fields = Object.entries(err.fields || {}).map(([f, why]) => `${f}: ${why}`).join("; ");
    super(`${err.message || "HTTP " + status}${fields ? " (" + fields + ")" : ""}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(`/v1/tenants/${encodeURIComponent(state.client)}${path}`, opts);
  const doc = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) signOut("The token is unknown or was revoked: sign in again.");
    throw new ApiError(res.status, doc);
  }
  return doc;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? "—" : typeof v === "number" ? (+v.toFixed(digits)).toString() : String(v));
const say = (text, where = "#rec-message") => { $(where).textContent = text; };

// --- sign in ---------------------------------------------------------------------

async function signIn(client, token) {
  state.client = client;
  state.token = token;
  const status = await api("GET", "/status");
  sessionStorage.setItem("masterfile.client", client);
  sessionStorage.setItem("masterfile.token", token);
  $("#signin").hidden = true;
  $("#console").hidden = false;
  $("#sign-out").hidden = false;
  $("#tenant-name").textContent = client;
  showStatus(status);
  await loadRecs(null);
  await showTab(state.tab);
  openStream();
}

function signOut(message) {
  sessionStorage.removeItem("masterfile.client");
  sessionStorage.removeItem("masterfile.token");
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.token = null;
  $("#console").hidden = true;
  $("#sign-out").hidden = true;
  $("#signin").hidden = false;
  $("#tenant-name").textContent = "";
  $("#freshness").textContent = "signed out";
  $("#signin-error").textContent = message || "";
}

$("#signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#signin-error").textContent = "";
  try {
    await signIn($("#signin-client").value.trim(), $("#signin-token").value.trim());
  } catch (e) {
    $("#signin-error").textContent = e.status === 404 ? "No such tenant for this token." : e.message;
  }
});
$("#sign-out").addEventListener("click", () => signOut());

// --- freshness -------------------------------------------------------------------

function showStatus(s) {
  const badge = $("#freshness");
  const run = s.last_run;
  const when = run && run.finished ? new Date(run.finished).toLocaleTimeString() : run ? "running" : "never";
  badge.textContent = `queue ${s.queue_depth}` + (s.oldest_dirty_age_seconds ? ` (oldest ${Math.round(s.oldest_dirty_age_seconds)}s)` : "")
    + ` · last run ${when}${run ? " " + run.status + ", " + run.keys + " keys" : ""} · end week ${s.end_week || "—"}`;
  badge.className = "badge" + (run && run.status === "failed" ? " failed" : s.queue_depth > 0 ? " busy" : "");
  badge.dataset.queue = s.queue_depth;
  $("#conflict-count").textContent = s.open_conflicts ? `(${s.open_conflicts})` : "";
}

// --- events: fetch() streams, so the token travels in a header, not in the URL ----

async function openStream() {
  const ctrl = new AbortController();
  state.stream = ctrl;
  const live = $("#live");
  try {
    const res = await fetch(`/v1/tenants/${encodeURIComponent(state.client)}/events`,
      { headers: { Authorization: `Bearer ${state.token}` }, signal: ctrl.signal });
    if (!res.ok) throw new Error(`events: HTTP ${res.status}`);
    live.textContent = "live";
    live.className = "badge";
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        handleEvent(buf.slice(0, cut));
        buf = buf.slice(cut + 2);
      }
    }
  } catch (e) {
    if (ctrl.signal.aborted) return;
  }
  live.textContent = "offline";
  live.className = "badge off";
  if (state.stream === ctrl && state.token) setTimeout(() => state.stream === ctrl && openStream(), 2000);
}

function handleEvent(text) {
  let type = "message", data = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return;
  const doc = JSON.parse(data);
  if (type === "status") showStatus(doc);
  else if (type === "recommendation") updateRecRow(doc);
}

// --- recommendations ---------------------------------------------------------------

function recQuery(extra = {}) {
  const form = new FormData($("#rec-filters"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) if (v) params.set(k, v.trim());
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== undefined) params.set(k, v);
  return params;
}

async function loadRecs(cursor) {
  const doc = await api("GET", "/recommendations?" + recQuery({ cursor, limit: 100 }));
  const body = $("#rec-table tbody");
  body.replaceChildren(...doc.data.map(recRow));
  state.cursor = doc.next_cursor;
  $("#rec-next").disabled = !doc.next_cursor;
  say(doc.data.length ? `${doc.data.length} recommendations${doc.next_cursor ? " (more on the next page)" : ""}` : "No recommendation matches.");
}


function recRow(r) {
  const qty = el("input", { type: "number", min: "0", step: "any", value: r.approved_qty ?? "", "aria-label": "approved quantity" });
  const note = el("input", { class: "note", value: r.note ?? "", "aria-label": "note" });
  const decide = (decision) => async () => {
    const body = { decision, note: note.value || null };
    if (decision === "approved") body.approved_qty = qty.value === "" ? (tr.dataset.qty ? +tr.dataset.qty : null) : +qty.value;
    try {
      const row = await api("PATCH", `/recommendations/${encodeURIComponent(r.product_id)}/${encodeURIComponent(r.location_id)}`, body);
      tr.replaceWith(recRow(row));
      say(`${r.product_id} at ${r.location_id}: ${decision}`);
    } catch (e) { say(e.message); }
  };
  const tr = el("tr", { "data-product": r.product_id, "data-location": r.location_id, "data-qty": r.recommended_qty ?? "" },
    el("td", {}, r.product_id), el("td", {}, r.location_id),
    el("td", { class: "num qty" }, fmt(r.recommended_qty)), el("td", { class: "reason" }, r.reason ?? "—"),
    el("td", { class: "num" }, fmt(r.forecast_per_week)), el("td", { class: "num lead" }, fmt(r.lead_time_weeks, 2)),
    el("td", { class: "decision decision-" + r.decision }, r.decision + (r.decided_by ? ` (${r.decided_by})` : "")),
    el("td", { class: "num" }, qty),
    el("td", {}, el("button", { class: "approve", onclick: decide("approved") }, "Approve"), " ",
      el("button", { class: "reject", onclick: decide("rejected") }, "Reject")),
    el("td", {}, note));
  return tr;
}

function updateRecRow(ev) {
  const tr = [...document.querySelectorAll("#rec-table tbody tr")].find(
    (t) => t.dataset.product === ev.product_id && t.dataset.location === ev.location_id);
  if (!tr) return;
  $(".qty", tr).textContent = fmt(ev.recommended_qty);
  $(".reason", tr).textContent = ev.reason ?? "—";
  tr.dataset.qty = ev.recommended_qty ?? "";
  tr.classList.remove("changed");
  void tr.offsetWidth; // restart the highlight
  tr.classList.add("changed");
}

$("#rec-filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadRecs(null).catch((e) => say(e.message)); });
$("#rec-first").addEventListener("click", () => { loadRecs(null).catch((e) => say(e.message)); });
$("#rec-next").addEventListener("click", () => { if (state.cursor) loadRecs(state.cursor).catch((e) => say(e.message)); });
$("#approve-all").addEventListener("click", async () => {
  try {
    const doc = await api("GET", "/recommendations?" + recQuery({ limit: 1000 }));
    if (!doc.data.length) return say("Nothing to approve.");
    if (!confirm(`Approve ${doc.data.length} recommendations at their recommended quantity?`)) return;
    await api("POST", "/recommendations/decisions", { decisions: doc.data.map((r) => (
      { product_id: r.product_id, location_id: r.location_id, decision: "approved", approved_qty: r.recommended_qty ?? 0 })) });
    await loadRecs(null);
    say(`Approved ${doc.data.length} recommendations.`);
  } catch (e) { say(e.message); }
});

// --- settings: ERP value, override and effective value side by side --------------

const ERP_STATUS = {
  discontinued: (e) => (e && e.status ? e.status === "discontinued" : null),
  enabled: (e) => (e && e.status ? e.status === "open" : null),
};
const ENTITIES = {
  locations: { key: "location_id", fields: { enabled: "bool" } },
  products: { key: "product_id", fields: { discontinued: "bool", service_level: "number" } },
  suppliers: { key: "supplier_id", fields: { lead_time_days: "int", min_order_qty: "number", order_multiple: "number", review_period_weeks: "int" } },
};

function overrideInput(type, value) {
  if (type === "bool") {
    const sel = el("select", {}, el("option", { value: "" }, "no override"), el("option", { value: "true" }, "yes"), el("option", { value: "false" }, "no"));
    sel.value = value === null || value === undefined ? "" : String(value);
    return sel;
  }
  return el("input", { type: "number", step: type === "int" ? "1" : "any", value: value ?? "", placeholder: "none", size: "6" });
}

const readInput = (type, input) => input.value === "" ? null : type === "bool" ? input.value === "true" : type === "int" ? parseInt(input.value, 10) : +input.value;

// one <tbody> per entity: a row per field (ERP value | override | effective),
// so the three stay side by side in a narrow panel
function entityRow(name, doc) {
  const spec = ENTITIES[name];
  const id = doc[spec.key];
  const fields = Object.entries(spec.fields);
  const inputs = {};
  const rows = fields.map(([field, type]) => {
    const erp = ERP_STATUS[field] ? ERP_STATUS[field](doc.erp) : doc.erp ? doc.erp[field] : null;
    const ov = doc.override ? doc.override[field] : null;
    inputs[field] = overrideInput(type, ov);
    inputs[field].setAttribute("aria-label", `${field} override`);
    inputs[field].dataset.field = field;
    return el("tr", { "data-field": field }, el("td", { class: "field" }, field.replaceAll("_", " ")),
      el("td", { class: "erp" }, fmt(erp, 3)), el("td", {}, inputs[field]),
      el("td", { class: "eff" + (ov !== null && ov !== undefined ? " overridden" : "") }, fmt(doc.effective[field], 3)));
  });
  const save = async () => {
    const body = {};
    for (const [field, type] of fields) body[field] = readInput(type, inputs[field]);
    try {
      const updated = await api("PUT", `/settings/${name}/${encodeURIComponent(id)}`, body);
      group.replaceWith(entityRow(name, updated));
      say(`Saved ${id}; the recommendations it affects update as the pipeline recomputes them.`, "#panel-message");
    } catch (e) { say(e.message, "#panel-message"); }
  };
  const clear = async () => {
    try {
      const updated = await api("DELETE", `/settings/${name}/${encodeURIComponent(id)}`);
      group.replaceWith(entityRow(name, updated.effective ? updated : { ...doc, override: null }));
      say(`Removed the override of ${id}.`, "#panel-message");
    } catch (e) { say(e.message, "#panel-message"); }
  };
  rows[0].prepend(el("td", { rowspan: fields.length, class: "entity" }, el("b", {}, id), el("br"),
    doc.erp ? doc.erp.name ?? "" : "(not sent by the ERP)", el("br"),
    el("button", { class: "save", onclick: save }, "Save"), " ",
    el("button", { class: "clear", onclick: clear, disabled: !doc.override }, "Clear")));
  const group = el("tbody", { "data-id": id }, ...rows);
  return group;
}

async function showEntities(name, q = "", cursor = null) {
  const spec = ENTITIES[name];
  const params = new URLSearchParams({ limit: "100" });
  if (q) params.set("q", q);
  if (cursor) params.set("cursor", cursor);
  const doc = await api("GET", `/${name}?${params}`);
  const head = ["", "field", "ERP", "override", "effective"].map((h) => el("th", { class: h === "ERP" ? "erp" : "" }, h));
  const search = el("input", { placeholder: "search id or name", value: q, name: "q" });
  const form = el("form", { class: "inline", onsubmit: (ev) => { ev.preventDefault(); showEntities(name, search.value.trim()); } },
    search, el("button", { type: "submit" }, "Search"));
  const more = doc.next_cursor ? el("button", { onclick: () => showEntities(name, q, doc.next_cursor) }, "Next page") : "";
  $("#panel").replaceChildren(form, el("p", { id: "panel-message", class: "message", role: "status" }),
    el("table", { id: "entity-table" }, el("thead", {}, el("tr", {}, ...head)),
      ...doc.data.map((d) => entityRow(name, d))), more);
}

function showAssortments() {
  const p = el("input", { placeholder: "product", name: "product_id", required: true });
  const l = el("input", { placeholder: "location", name: "location_id", required: true });
  const out = el("div");
  const path = () => `/settings/assortments/${encodeURIComponent(p.value.trim())}/${encodeURIComponent(l.value.trim())}`;
  const render = (doc) => {
    const input = overrideInput("bool", doc.override ? doc.override.assorted : null);
    out.replaceChildren(el("p", {}, `${doc.product_id} at ${doc.location_id}: effective `, el("b", {}, doc.effective ? String(doc.effective.assorted) : "—")),
      el("label", {}, "override ", input), " ",
      el("button", { onclick: async () => { try { render(await api("PUT", path(), { assorted: readInput("bool", input) })); say("Saved.", "#panel-message"); } catch (e) { say(e.message, "#panel-message"); } } }, "Save"), " ",
      el("button", { onclick: async () => { try { render(await api("DELETE", path())); say("Override removed.", "#panel-message"); } catch (e) { say(e.message, "#panel-message"); } } }, "Clear"));
  };
  const form = el("form", { class: "inline", onsubmit: async (ev) => {
    ev.preventDefault();
    try { render(await api("GET", path())); say("", "#panel-message"); } catch (e) { say(e.status === 404 ? "No such key." : e.message, "#panel-message"); }
  } }, p, l, el("button", { type: "submit" }, "Look up"));
  $("#panel").replaceChildren(el("p", { class: "hint" }, "Only the UI speaks about assortment: a key without an override is assorted."),
    form, el("p", { id: "panel-message", class: "message", role: "status" }), out);
}

async function showConflicts(acknowledged = "false") {
  const params = new URLSearchParams({ limit: "100" });
  if (acknowledged) params.set("acknowledged", acknowledged);
  const doc = await api("GET", `/conflicts?${params}`);
  const filter = el("select", { onchange: () => showConflicts(filter.value), "aria-label": "which conflicts" },
    el("option", { value: "false" }, "open"), el("option", { value: "true" }, "acknowledged"), el("option", { value: "" }, "all"));
  filter.value = acknowledged;
  const row = (c) => {
    const tr = el("tr", { "data-id": c.conflict_id },
      el("td", {}, `${c.entity} ${c.entity_key}`), el("td", {}, c.field), el("td", { class: "erp" }, c.erp_value ?? "—"),
      el("td", {}, c.ui_value ?? "—"), el("td", {}, new Date(c.detected_at).toLocaleString()),
      el("td", { class: "ack" }, c.acknowledged_at ? `by ${c.acknowledged_by}` :
        el("button", { class: "acknowledge", onclick: async () => {
          try {
            tr.replaceWith(row(await api("POST", `/conflicts/${c.conflict_id}/acknowledge`)));
            showStatus(await api("GET", "/status"));
          } catch (e) { say(e.message, "#panel-message"); }
        } }, "Acknowledge")));
    return tr;
  };
  $("#panel").replaceChildren(el("form", { class: "inline" }, filter), el("p", { id: "panel-message", class: "message", role: "status" },
    doc.data.length ? "The UI's value stays effective; acknowledging records that you saw the ERP disagree." : "No conflict here."),
    el("table", { id: "conflict-table" }, el("thead", {}, el("tr", {}, el("th", {}, "what"), el("th", {}, "field"), el("th", {}, "ERP says"),
      el("th", {}, "UI says"), el("th", {}, "detected"), el("th"))), el("tbody", {}, ...doc.data.map(row))));
}

async function showTenant() {
  const s = await api("GET", "/settings/tenant");
  const inputs = {
    as_of_date: el("input", { type: "date", value: s.as_of_date ?? "" }),
    default_service_level: el("input", { type: "number", step: "0.001", min: "0.5", max: "0.999", value: s.default_service_level }),
    default_lead_time_days: el("input", { type: "number", step: "1", min: "0", value: s.default_lead_time_days }),
    horizon_weeks: el("input", { type: "number", step: "1", min: "1", max: "104", value: s.horizon_weeks }),
  };
  const form = el("form", { class: "inline", onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {
      as_of_date: inputs.as_of_date.value || null,
      default_service_level: +inputs.default_service_level.value,
      default_lead_time_days: parseInt(inputs.default_lead_time_days.value, 10),
      horizon_weeks: parseInt(inputs.horizon_weeks.value, 10),
    };
    try { await api("PATCH", "/settings/tenant", body); say("Saved.", "#panel-message"); } catch (e) { say(e.message, "#panel-message"); }
  } }, ...Object.entries(inputs).map(([k, input]) => el("label", {}, k.replaceAll("_", " "), input)), el("button", { type: "submit" }, "Save"));
  $("#panel").replaceChildren(form, el("p", { id: "panel-message", class: "message", role: "status" },
    `Last changed by ${s.updated_by} at ${new Date(s.updated_at).toLocaleString()}.`));
}

async function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === tab);
  try {
    if (ENTITIES[tab]) await showEntities(tab);
    else if (tab === "assortments") showAssortments();
    else if (tab === "conflicts") await showConflicts();
    else await showTenant();
  } catch (e) { $("#panel").textContent = e.message; }
}

for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));

// a tab that reloads keeps its sign-in
const saved = [sessionStorage.getItem("masterfile.client"), sessionStorage.getItem("masterfile.token")];
if (saved[0] && saved[1]) signIn(saved[0], saved[1]).catch(() => signOut());
