// tlsflow view: draws /events.json (trace events, JSON.md's schema) as a
// sequence diagram and shows a clicked message's fields and bytes.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const CLIENT_X = 150, SERVER_X = 610, WIDTH = 760;
const TOP = 56, ARROW_ROW = 36, NOTE_ROW = 22;

let events = [];
const rows = new Map(); // event index → its <g>
const finished = new Set(); // sides whose handshake completed

// shown says whether event e gets a row, and which: an arrow for what went
// over the wire, a note for what a side found out on its own. A recording
// holding both sides has every message twice, as sent and as received:
// draw it once, as sent. A one-sided recording (a client's own trace) has
// only its side: draw what it received too.
function shown(e, sides) {
  switch (e.kind) {
  case "message": case "change_cipher_spec": case "alert": case "application_data":
    if (e.direction === "sent") return "arrow";
    if (e.direction === "received" && !sides.has(e.side === "client" ? "server" : "client")) return "arrow";
    return null;
  case "connect": case "verified": case "handshake_done": case "error": case "note":
    return "note";
  }
  return null; // keys: their interest is the secret, which is never served
}

// label is what a row says: the message and the course note's step.
function label(e) {
  let name;
  switch (e.kind) {
  case "message": case "change_cipher_spec": name = e.message || e.kind; break;
  case "alert": name = "Alert: " + e.message; break;
  case "application_data": name = "application data"; break;
  case "connect": name = "TCP connected"; break;
  case "verified": name = "✓ " + e.message + " verified"; break;
  case "handshake_done": name = "handshake done"; break;
  case "error": return "✗ " + failure(e);
  default: name = e.message || e.kind;
  }
  return e.step >= 0 ? name + " — step " + e.step : name;
}

function field(e, name) {
  return ((e.fields || []).find(f => f.name === name) || {}).value || "";
}

// failure says where an error event's side failed and how the connection
// ended, from the "ended" field (trace.EndOf, the classification every
// renderer uses): after the handshake it is the connection that ended.
function failure(e) {
  const after = e.step === 8 || finished.has(e.side);
  let s = after ? "connection ended" : "handshake failed";
  if (e.step >= 0) s += " at step " + e.step + (e.message ? ", " + e.message : "");
  const peer = e.side === "client" ? "server" : "client";
  const alert = field(e, "alert").split(" (")[0];
  const how = {
    alert_sent: "alert " + alert + " sent",
    alert_received: "alert " + alert + " received from the " + peer,
    close_notify: "the " + peer + " gave up with close_notify",
    closed: "the " + peer + " closed TCP without an alert",
    reset: "the TCP connection was reset",
    refused: "the TCP connection was refused",
    timeout: "no answer in time",
    not_tls: "the " + peer + " does not speak TLS",
    local: "nothing was sent",
  }[field(e, "ended")];
  return s + ": " + (how || e.error || "error");
}

function el(name, attrs, text) {
  const n = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

function from(e) {
  if (e.direction === "received") return e.side === "client" ? "server" : "client";
  return e.side;
}

function draw() {
  const sides = new Set(events.map(e => e.side));
  const layout = [];
  let y = TOP;
  events.forEach((e, i) => {
    const what = shown(e, sides);
    if (!what) return;
    const h = what === "arrow" ? ARROW_ROW : NOTE_ROW;
    layout.push({ i, e, what, y });
    y += h;
  });
  const height = y + 16;
  const svg = el("svg", { width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: "list" });
  for (const [x, name] of [[CLIENT_X, "Client"], [SERVER_X, "Server"]]) {
    const g = el("g", { class: "actor" });
    g.append(el("rect", { x: x - 55, y: 8, width: 110, height: 28, rx: 4 }), el("text", { x, y: 27 }, name));
    svg.append(g, el("line", { class: "lane", x1: x, y1: 36, x2: x, y2: height }));
  }
  for (const { i, e, what, y } of layout) {
    const g = what === "arrow" ? arrow(e, y) : note(e, y);
    g.setAttribute(what === "arrow" ? "data-msg" : "data-note", i);
    g.setAttribute("data-from", what === "arrow" ? from(e) : e.side);
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "listitem");
    g.addEventListener("click", () => select(i));
    g.addEventListener("keydown", ev => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(i); } });
    rows.set(i, g);
    svg.append(g);
  }
  document.getElementById("diagram").append(svg);
}

function arrow(e, y) {
  const cls = { message: "msg", change_cipher_spec: "ccs", alert: "alert", application_data: "appdata" }[e.kind];
  const g = el("g", { class: "row " + cls });
  const [x1, x2] = from(e) === "client" ? [CLIENT_X, SERVER_X] : [SERVER_X, CLIENT_X];
  const dir = x2 > x1 ? 1 : -1, ly = y + 24;
  g.append(
    el("rect", { class: "hit", x: CLIENT_X - 60, y, width: SERVER_X - CLIENT_X + 120, height: ARROW_ROW }),
    el("text", { x: (CLIENT_X + SERVER_X) / 2, y: y + 17 }, label(e)),
    el("line", { x1, y1: ly, x2: x2 - dir * 8, y2: ly }),
    el("polygon", { class: "head", points: `${x2},${ly} ${x2 - dir * 10},${ly - 5} ${x2 - dir * 10},${ly + 5}` }));
  return g;
}

function note(e, y) {
  const g = el("g", { class: `row note ${e.side}` + (e.kind === "error" ? " error" : "") });
  const x = e.side === "client" ? CLIENT_X : SERVER_X;
  const tx = e.side === "client" ? x + 10 : x - 10;
  g.append(
    el("rect", { class: "hit", x: CLIENT_X - 60, y, width: SERVER_X - CLIENT_X + 120, height: NOTE_ROW }),
    el("circle", { cx: x, cy: y + 11, r: 3 }),
    el("text", { x: tx, y: y + 15 }, label(e)));
  return g;
}

// select shows event i in the panel. A click, the keyboard and a
// "#select=N" in the address all come here.
function select(i) {
  const e = events[i], g = rows.get(i);
  if (!e || !g) return;
  for (const r of rows.values()) r.classList.remove("selected");
  g.classList.add("selected");
  if (location.hash !== "#select=" + i) history.replaceState(null, "", "#select=" + i);

  const panel = document.getElementById("panel");
  panel.replaceChildren();
  const h = document.createElement("h2");
  h.textContent = label(e);
  const meta = document.createElement("p");
  meta.className = "meta";
  const who = e.direction === "local" ? e.side :
    from(e) === "client" ? "client → server" : "server → client";
  const parts = [who, e.kind];
  if (e.version) parts.push(versionName(e.version));
  if (e.raw) parts.push(e.raw.length / 2 + " bytes");
  if (e.time) parts.push(e.time);
  meta.textContent = parts.join(" · ");
  panel.append(h, meta);

  if (e.error) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = e.error;
    panel.append(p);
  }
  if (e.fields && e.fields.length) {
    const table = document.createElement("table");
    table.id = "fields";
    for (const f of e.fields) {
      const tr = table.insertRow();
      tr.insertCell().textContent = f.name;
      tr.insertCell().textContent = f.value;
    }
    panel.append(heading("Fields"), table);
  }
  if (e.raw) {
    const pre = document.createElement("pre");
    pre.id = "bytes";
    panel.append(heading("Bytes"), pre);
    pre.textContent = hexdump(e.raw, bytesPerLine(pre));
  }
}

function heading(text) {
  const h = document.createElement("h3");
  h.textContent = text;
  return h;
}

function versionName(v) {
  return { 0x0303: "TLS 1.2", 0x0304: "TLS 1.3" }[v] || "0x" + v.toString(16).padStart(4, "0");
}

// hexdump writes raw (lowercase hex) as n bytes a line: offset, bytes, ASCII.
function hexdump(raw, n) {
  const lines = [];
  for (let off = 0; off < raw.length; off += 2 * n) {
    const bytes = raw.slice(off, off + 2 * n).match(/../g);
    const ascii = bytes.map(b => {
      const c = parseInt(b, 16);
      return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
    }).join("");
    lines.push((off / 2).toString(16).padStart(4, "0") + "  " + bytes.join(" ").padEnd(3 * n - 1) + "  " + ascii);
  }
  return lines.join("\n");
}

// bytesPerLine is 16, as hexdump -C shows them, when a whole line with its
// ASCII column fits in pre; else 8, so the ASCII column is never off to
// the side, out of sight.
function bytesPerLine(pre) {
  const probe = document.createElement("span");
  probe.className = "probe";
  probe.textContent = "0".repeat(100);
  pre.append(probe);
  const ch = probe.getBoundingClientRect().width / 100;
  probe.remove();
  const style = getComputedStyle(pre);
  const room = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const width = n => (4 + 2 + 3 * n - 1 + 2 + n) * ch;
  return width(16) <= room ? 16 : 8;
}

function summarize() {
  const summary = document.getElementById("summary");
  const failed = events.find(e => e.kind === "error");
  if (failed) {
    summary.textContent = failed.side + ": " + failure(failed);
    summary.className = "failed";
    return;
  }
  const done = events.find(e => e.kind === "handshake_done");
  if (!done) {
    summary.textContent = events.length + " events, no completed handshake";
    return;
  }
  const f = name => (done.fields.find(x => x.name === name) || {}).value;
  summary.textContent = [f("version"), f("cipher_suite"), f("group")].filter(Boolean).join(" · ");
}

function selectFromHash() {
  const m = /^#select=(\d+)$/.exec(location.hash);
  if (m) select(Number(m[1]));
}

async function main() {
  try {
    const resp = await fetch("events.json");
    if (!resp.ok) throw new Error("events.json: " + resp.status + " " + resp.statusText);
    events = await resp.json();
  } catch (err) {
    document.getElementById("summary").textContent = "cannot load the events: " + err.message;
    return;
  }
  for (const e of events) if (e.kind === "handshake_done") finished.add(e.side);
  summarize();
  draw();
  document.body.dataset.ready = "true";
  selectFromHash();
  addEventListener("hashchange", selectFromHash);
}

main();
