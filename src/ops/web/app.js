// tipring admin page: fills the status page from /api/status every second and shows the
// SIP ladder of the selected call. Everything from the gateway goes in with textContent,
// never as markup (callers' names and SIP lines come from the network).
"use strict";

const $ = (sel) => document.querySelector(sel);

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  row.appendChild(td);
  return td;
}

function fill(tbody, items, build) {
  tbody.replaceChildren(...items.map(build));
}

let selected = null;

function renderPorts(ports) {
  fill($("#ports tbody"), ports, (p) => {
    const tr = document.createElement("tr");
    tr.className = "port";
    tr.dataset.port = p.index;
    cell(tr, p.index);
    cell(tr, p.kind);
    cell(tr, p.number).className = "number";
    cell(tr, p.state).className = "state";
    const last = p.last_call;
    cell(tr, last ? `${last.cause} (${last.sip_code}) at ${last.end}` : "").className = "last";
    return tr;
  });
  const calls = ports.filter((p) => p.call).map((p) => ({ port: p.index, ...p.call }));
  fill($("#calls tbody"), calls, (c) => {
    const tr = document.createElement("tr");
    tr.className = "call";
    tr.dataset.callId = c.call_id;
    if (c.call_id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => { selected = c.call_id; refreshLadder(); });
    cell(tr, c.port);
    cell(tr, c.direction);
    cell(tr, c.caller).className = "caller";
    cell(tr, c.called).className = "called";
    cell(tr, c.answered ? "yes" : "no").className = "answered";
    cell(tr, c.duration_s.toFixed(0));
    cell(tr, c.codec);
    cell(tr, c.rtp ? c.rtp.lost : "");
    cell(tr, c.rtp ? c.rtp.jitter_ms.toFixed(1) : "");
    cell(tr, c.mos ? c.mos.toFixed(2) : "");
    return tr;
  });
  if (calls.length && !calls.some((c) => c.call_id === selected)) {
    selected = calls[0].call_id;
  }
}

function renderRegistrations(registrations) {
  fill($("#registrations tbody"), registrations, (r) => {
    const tr = document.createElement("tr");
    tr.className = "registration";
    cell(tr, r.account);
    cell(tr, r.state);
    cell(tr, r.expires_in_s);
    cell(tr, r.last_code);
    return tr;
  });
}

function renderCounters(s) {
  const dl = $("#counters");
  const items = [
    ["calls in", s.calls.incoming],
    ["calls out", s.calls.outgoing],
    ["answered", s.calls.answered],
    ["SIP received", s.sip.received],
    ["SIP sent", s.sip.sent],
    ["bans", s.sip.bans],
  ];
  for (const [why, n] of Object.entries(s.calls.failed || {})) items.push([`unanswered: ${why}`, n]);
  for (const [why, n] of Object.entries(s.sip.refused || {})) items.push([`refused: ${why}`, n]);
  dl.replaceChildren(...items.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = String(v);
    return [dt, dd];
  }));
}

async function refreshLadder() {
  if (!selected) return;
  const r = await fetch(`/api/ladder?call_id=${encodeURIComponent(selected)}`, { cache: "no-store" });
  if (!r.ok) return;
  const rungs = await r.json();
  $("#ladder-call").textContent = selected;
  const t0 = rungs.length ? rungs[0].at_ms : 0;
  $("#ladder").replaceChildren(...rungs.map((m) => {
    const li = document.createElement("li");
    li.className = `msg ${m.sent ? "out" : "in"}`;
    const arrow = m.sent ? `→ ${m.peer}` : `← ${m.peer}`;
    li.textContent = `+${((m.at_ms - t0) / 1000).toFixed(3)} s  ${arrow}  ${m.line}`;
    return li;
  }));
}

async function refresh() {
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (r.status === 401) { location.href = "/login"; return; }
    if (!r.ok) { $("#live").textContent = `the gateway did not answer (${r.status})`; return; }
    const s = await r.json();
    renderPorts(s.ports);
    renderRegistrations(s.registrations);
    renderCounters(s);
    $("#live").textContent = `tipring ${s.version}, up ${s.uptime_s} s (live)`;
    await refreshLadder();
  } catch (e) {
    $("#live").textContent = "reconnecting…";
  }
}

function selectLine(textarea, line) {
  const lines = textarea.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
}

if (document.body.dataset.page === "status") {
  refresh();
  setInterval(refresh, 1000);
}

if (document.body.dataset.page === "config") {
  const text = $("#config-text");
  for (const li of document.querySelectorAll("#config-errors li[data-line]")) {
    const line = Number(li.dataset.line);
    if (text && line > 0) li.addEventListener("click", () => selectLine(text, line));
  }
  const first = $("#config-errors li[data-line]");
  if (text && first && Number(first.dataset.line) > 0) selectLine(text, Number(first.dataset.line));
}
