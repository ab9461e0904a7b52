// Analysts' dashboard: reads /api/stats/* with the analyst token and draws
// plain SVG charts. No libraries, no network access beyond this origin.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const fmt = new Intl.NumberFormat("en-US");

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function isoDay(d) { return d.toISOString().slice(0, 10); }

function setState(state, message) {
  document.body.dataset.state = state;
  $("status").textContent = message;
}

// The token comes from the field, sessionStorage, or once from a
// "#token=..." fragment (which never reaches the server), then is removed
// from the address bar.
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("token")) sessionStorage.setItem("analystToken", params.get("token"));
  for (const k of ["from", "to", "interval"]) if (params.has(k)) $(k).value = params.get(k);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  $("token").value = sessionStorage.getItem("analystToken") || "";
}

// query builds a stats query string. range defaults to the form's days;
// refresh passes the range the series endpoint answered with (a week or
// month interval widens it to whole buckets), so that every figure on the
// page counts the same days.
function query(extra, range) {
  const r = range || { from: $("from").value, to: $("to").value };
  const p = new URLSearchParams({ from: r.from, to: r.to });
  for (const [k, v] of Object.entries(extra || {})) if (v) p.set(k, v);
  return p.toString();
}

async function api(path, accept) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + $("token").value, Accept: accept || "application/json" } });
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { msg = (await res.json()).error.message; } catch (_) { /* not JSON */ }
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return accept === "text/csv" ? res.text() : res.json();
}

function drawSeries(data) {
  const box = $("series-chart");
  box.replaceChildren();
  const W = 1000, H = 280, L = 56, R = 16, T = 14, B = 34;
  const pts = data.series;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "downloads over time", id: "series-svg",
    "data-total": data.total, "data-points": pts.length });
  const maxD = Math.max(1, ...pts.map((p) => p.downloads), ...pts.map((p) => p.accounts));
  const iw = W - L - R, ih = H - T - B, bw = iw / Math.max(1, pts.length);
  const y = (v) => T + ih - (v / maxD) * ih;
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((maxD * i) / 4), yy = y(v);
    svg.append(el("line", { class: "grid", x1: L, x2: W - R, y1: yy, y2: yy }));
    svg.append(el("text", { x: L - 6, y: yy + 4, "text-anchor": "end" }, fmt.format(v)));
  }
  let line = "";
  pts.forEach((p, i) => {
    const x = L + i * bw, h = T + ih - y(p.downloads);
    const bar = el("rect", { class: "bar", x: x + bw * 0.12, y: y(p.downloads), width: Math.max(1, bw * 0.76), height: h,
      "data-start": p.start, "data-downloads": p.downloads });
    bar.append(el("title", {}, `${p.start}: ${fmt.format(p.downloads)} downloads, ${fmt.format(p.accounts)} accounts`));
    svg.append(bar);
    line += (i ? "L" : "M") + (x + bw / 2).toFixed(1) + " " + y(p.accounts).toFixed(1);
  });
  if (pts.length) svg.append(el("path", { class: "line", d: line }));
  svg.append(el("line", { class: "axis", x1: L, x2: W - R, y1: T + ih, y2: T + ih }));
  const every = Math.max(1, Math.ceil(pts.length / 10));
  pts.forEach((p, i) => {
    if (i % every === 0) svg.append(el("text", { x: L + i * bw + bw / 2, y: H - 12, "text-anchor": "middle" }, p.start));
  });
  box.append(svg);
  $("total-downloads").textContent = fmt.format(data.total);
  $("total-downloads").dataset.value = data.total;
  $("bucket-count").textContent = pts.length;
  $("range").textContent = `${data.from} → ${data.to}`;
  const widened = data.from !== $("from").value || data.to !== $("to").value;
  $("range").title = widened ? `widened to whole ${data.interval}s from ${$("from").value} → ${$("to").value}` : "";
  $("range-note").textContent = widened ? `(widened to whole ${data.interval}s)` : "";
  $("busiest-unit").textContent = data.interval;
  const best = pts.reduce((a, p) => (p.downloads > a.downloads ? p : a), { downloads: -1, start: "–" });
  $("busiest").textContent = best.downloads > 0 ? `${best.start} (${fmt.format(best.downloads)})` : "–";
}

function drawTop(data) {
  const body = $("top-videos").querySelector("tbody");
  body.replaceChildren();
  const max = Math.max(1, ...data.videos.map((v) => v.downloads));
  data.videos.forEach((v, i) => {
    const tr = document.createElement("tr");
    tr.dataset.videoId = v.video_id;
    tr.dataset.downloads = v.downloads;
    const cells = [String(i + 1), (v.title || v.video_id) + (v.withdrawn ? " (withdrawn)" : ""), fmt.format(v.downloads)];
    cells.forEach((c, j) => {
      const td = document.createElement("td");
      td.textContent = c;
      if (j === 2) td.className = "num";
      tr.append(td);
    });
    const meter = document.createElement("td");
    meter.className = "meter-cell";
    const m = document.createElement("div");
    m.className = "meter";
    m.style.width = ((100 * v.downloads) / max).toFixed(1) + "%";
    meter.append(m);
    tr.append(meter);
    body.append(tr);
  });
  const sel = $("video"), keep = sel.value;
  if (sel.options.length <= 1) {
    for (const v of data.videos) sel.append(new Option(v.title || v.video_id, v.video_id));
    sel.value = keep;
  }
}

function drawFormats(data) {
  const box = $("format-chart");
  box.replaceChildren();
  const rows = data.formats, W = 480, rowH = 30, H = Math.max(1, rows.length) * rowH + 8, L = 120;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "downloads per format", id: "format-svg", "data-total": data.total });
  const max = Math.max(1, ...rows.map((f) => f.downloads));
  rows.forEach((f, i) => {
    const y = 4 + i * rowH, w = ((W - L - 150) * f.downloads) / max;
    svg.append(el("text", { x: L - 8, y: y + 18, "text-anchor": "end" }, f.format));
    svg.append(el("rect", { class: "bar", x: L, y: y + 4, width: Math.max(1, w), height: rowH - 10, "data-format": f.format, "data-downloads": f.downloads }));
    const pct = data.total ? ((100 * f.downloads) / data.total).toFixed(1) : "0.0";
    svg.append(el("text", { class: "val", x: L + w + 6, y: y + 18 }, `${fmt.format(f.downloads)} (${pct}%)`));
  });
  box.append(svg);
  $("format-total").textContent = fmt.format(data.total);
  $("format-total").dataset.value = data.total;
}

async function refresh() {
  const token = $("token").value.trim();
  if (!token) {
    setState("need-token", "Enter the auditor or admin token to see the statistics.");
    return;
  }
  sessionStorage.setItem("analystToken", token);
  setState("loading", "Loading…");
  const video = $("video").value;
  try {
    // The series first: its from/to (widened to whole weeks or months) is
    // the one range every other figure on the page is counted over.
    const series = await api("/api/stats/downloads?" + query({ interval: $("interval").value, video_id: video }));
    const range = { from: series.from, to: series.to };
    const [top, formats] = await Promise.all([
      api("/api/stats/videos/top?" + query({ limit: "10" }, range)),
      api("/api/stats/formats?" + query({ video_id: video }, range)),
    ]);
    drawSeries(series);
    drawTop(top);
    drawFormats(formats);
    setState("ready", `Updated ${new Date().toLocaleTimeString()}: ${fmt.format(series.total)} downloads from ${series.from} to ${series.to}.`);
  } catch (err) {
    if (err.status === 401 || err.status === 403) sessionStorage.removeItem("analystToken");
    setState("error", "Could not load the statistics: " + err.message);
  }
}

async function downloadCSV() {
  try {
    const text = await api("/api/stats/downloads?" + query({ interval: $("interval").value, video_id: $("video").value }), "text/csv");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = `downloads_${$("from").value}_${$("to").value}_${$("interval").value}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (err) {
    setState("error", "Could not export CSV: " + err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date();
  $("to").value = isoDay(today);
  $("from").value = isoDay(new Date(today.getTime() - 89 * 86400000));
  readHash();
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  $("csv").addEventListener("click", downloadCSV);
  refresh();
});
