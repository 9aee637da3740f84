// GET /_edge/admin/dashboard: a self-contained page (no CDN, inline SVG charts) that fetches the report JSON.
// The page holds no data and no secret, so it is served without the bearer token. The operator's token reaches
// it in the URL fragment (`#token=…`, never sent to any server, so never in a log or a Referer) or through the
// form; it is kept in sessionStorage, removed from the address bar, and sent only as an Authorization header to
// /_edge/admin/report on the same origin.

const CLIENT_SCRIPT = String.raw`
"use strict";
var SVG = "http://www.w3.org/2000/svg";
var COLORS = { "2xx": "#2f9e44", "3xx": "#1c7ed6", "4xx": "#f08c00", "5xx": "#e03131", other: "#868e96" };
var $ = function (id) { return document.getElementById(id); };

function el(name, attrs, text) {
  var node = document.createElementNS(SVG, name);
  for (var k in attrs) node.setAttribute(k, String(attrs[k]));
  if (text !== undefined) node.textContent = text;
  return node;
}
function svg(width, height) {
  return el("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", preserveAspectRatio: "xMidYMid meet" });
}
function pct(x) { return x === null ? "–" : (x * 100).toFixed(1) + " %"; }
function ms(x) { return x === null ? "–" : x.toFixed(0) + " ms"; }

function requestsChart(report) {
  // A narrow viewBox keeps the labels legible when the chart is scaled down to a phone screen.
  var series = report.requests.series, w = 400, h = 200, pad = 26;
  var max = Math.max(1, Math.max.apply(null, series.map(function (b) { return b.count; })));
  var bw = (w - pad) / Math.max(series.length, 1);
  var chart = svg(w, h);
  chart.appendChild(el("text", { x: 0, y: 12, class: "axis" }, String(max)));
  chart.appendChild(el("text", { x: 0, y: h - 20, class: "axis" }, "0"));
  series.forEach(function (b, i) {
    var bh = (b.count / max) * (h - 40), eh = (b.errors / max) * (h - 40), x = pad + i * bw;
    var bar = el("rect", { x: x + 1, y: h - 20 - bh, width: Math.max(bw - 2, 1), height: bh, class: "bar", fill: "#1c7ed6" });
    bar.appendChild(el("title", {}, b.t + ": " + b.count + " requests, " + b.errors + " 5xx"));
    chart.appendChild(bar);
    if (eh > 0) chart.appendChild(el("rect", { x: x + 1, y: h - 20 - eh, width: Math.max(bw - 2, 1), height: eh, class: "bar-errors", fill: "#e03131" }));
  });
  var first = series[0], last = series[series.length - 1];
  if (first) chart.appendChild(el("text", { x: pad, y: h - 4, class: "axis" }, first.t.slice(5, 16).replace("T", " ")));
  if (last) chart.appendChild(el("text", { x: w, y: h - 4, class: "axis", "text-anchor": "end" }, last.t.slice(5, 16).replace("T", " ")));
  return chart;
}

function barsChart(rows, format) {
  var w = 400, rowH = 30, h = Math.max(rows.length, 1) * rowH, label = 80;
  var max = Math.max(1e-9, Math.max.apply(null, rows.map(function (r) { return r.value; })));
  var chart = svg(w, h);
  rows.forEach(function (r, i) {
    var y = i * rowH;
    chart.appendChild(el("text", { x: 0, y: y + 20, class: "label" }, r.label));
    chart.appendChild(el("rect", { x: label, y: y + 6, width: Math.max((r.value / max) * (w - label - 110), 1), height: 18, class: "bar", fill: r.color }));
    chart.appendChild(el("text", { x: w, y: y + 20, class: "label", "text-anchor": "end" }, format(r)));
  });
  return chart;
}

function render(report) {
  $("kpi-requests").textContent = report.requests.total.toLocaleString();
  $("kpi-p50").textContent = ms(report.latencyMs.p50);
  $("kpi-p95").textContent = ms(report.latencyMs.p95);
  $("kpi-rewrites").textContent = report.cookieKeeper.rewrites.toLocaleString();
  $("kpi-sessions").textContent = report.detection.sessions.toLocaleString();
  $("kpi-recovered").textContent = pct(report.detection.recoveredRate);
  $("range").textContent = report.from.slice(0, 16).replace("T", " ") + " → " + report.to.slice(0, 16).replace("T", " ") + " UTC · " +
    (report.containerId || "all containers") + " · " + report.objectsRead + (report.objectsRead === 1 ? " batch object" : " batch objects") + (report.truncated ? " (truncated)" : "");

  $("chart-requests").replaceChildren(requestsChart(report));
  var total = report.requests.total;
  var classes = Object.keys(report.statusClasses).sort().map(function (k) {
    return { label: k, value: report.statusClasses[k], color: COLORS[k] || COLORS.other };
  });
  $("chart-status").replaceChildren(barsChart(classes, function (r) { return r.value + " · " + pct(total ? r.value / total : null); }));
  var d = report.detection;
  $("chart-detection").replaceChildren(barsChart([
    { label: "ad-block", value: d.adblockRate || 0, color: "#f08c00", raw: d.adblockRate },
    { label: "ITP", value: d.itpRate || 0, color: "#7048e8", raw: d.itpRate },
    { label: "recovered", value: d.recoveredRate || 0, color: "#2f9e44", raw: d.recoveredRate },
  ], function (r) { return pct(r.raw); }));

  var body = $("top-paths");
  body.replaceChildren();
  report.topPaths.forEach(function (p) {
    var tr = document.createElement("tr"), a = document.createElement("td"), b = document.createElement("td");
    a.textContent = p.path; b.textContent = String(p.count);
    tr.append(a, b); body.appendChild(tr);
  });
}

// Open alerts (GET /_edge/admin/alerts), for the chosen container or all of them; a failure here leaves the report.
async function loadAlerts(token) {
  var list = $("alerts");
  try {
    var res = await fetch("/_edge/admin/alerts", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    if (!res.ok) throw new Error(String(res.status));
    var json = await res.json();
    var container = $("container").value.trim();
    var open = json.open.filter(function (a) { return !container || a.containerId === null || a.containerId === container; });
    list.replaceChildren();
    if (open.length === 0) { list.textContent = "No open alerts."; return; }
    open.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "alert";
      li.textContent = a.message + " (since " + a.raisedAt.slice(0, 16).replace("T", " ") + " UTC)";
      list.appendChild(li);
    });
  } catch (error) {
    list.textContent = "Could not load the alerts: " + error.message;
  }
}

// Customer domains of the chosen container (GET …/status, docs/custom-domains.md): one line per custom hostname.
async function loadHostnames(token, container) {
  var list = $("hostnames");
  list.replaceChildren();
  if (!container) { list.textContent = "Choose a container to see its custom hostnames."; return; }
  var res = await fetch("/_edge/admin/containers/" + encodeURIComponent(container) + "/status", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
  if (!res.ok) { list.textContent = "No status for " + container + "."; return; }
  (await res.json()).hostnames.forEach(function (h) {
    var li = document.createElement("li");
    li.dataset.state = h.state;
    li.textContent = h.host + " · " + h.state + " · " + (h.live ? "live" : "not live") + (h.errors.length ? " · " + h.errors.join("; ") : "");
    list.appendChild(li);
  });
  if (!list.children.length) list.textContent = "No custom hostnames.";
}

async function load() {
  var token = sessionStorage.getItem("qaxal-admin-token");
  if (!token) { document.body.dataset.state = "need-token"; $("status").textContent = "Enter the admin token."; return; }
  var params = new URLSearchParams({ since: $("since").value });
  if ($("container").value) params.set("container", $("container").value.trim());
  document.body.dataset.state = "loading";
  $("status").textContent = "Loading…";
  try {
    var res = await fetch("/_edge/admin/report?" + params, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    // A refused token is forgotten so the form asks again.
    if (res.status === 401) sessionStorage.removeItem("qaxal-admin-token");
    var json = await res.json();
    if (!res.ok) throw new Error(json.message || String(res.status));
    render(json);
    await loadAlerts(token);
    await loadHostnames(token, $("container").value.trim());
    $("status").textContent = "";
    document.body.dataset.state = "ready";
  } catch (error) {
    $("status").textContent = "Could not load the report: " + error.message;
    document.body.dataset.state = "error";
  }
}

var fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) sessionStorage.setItem("qaxal-admin-token", fragment.get("token"));
if (fragment.get("container")) $("container").value = fragment.get("container");
if (fragment.get("since")) $("since").value = fragment.get("since");
// The token must not stay in the address bar (history, screenshots, shoulder-surfing).
if (location.hash) history.replaceState(null, "", location.pathname + location.search);

$("token-form").addEventListener("submit", function (event) {
  event.preventDefault();
  if ($("token").value) sessionStorage.setItem("qaxal-admin-token", $("token").value);
  $("token").value = "";
  load();
});
load();
`;

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529; background: #f8f9fa; }
body { margin: 0 auto; padding: 12px; max-width: 960px; }
h1 { font-size: 1.3rem; margin: 4px 0 8px; }
h2 { font-size: 1rem; margin: 0 0 8px; }
form { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 8px; }
input, select, button { font: inherit; padding: 6px 8px; min-height: 40px; }
#range, #status { color: #495057; font-size: 0.85rem; margin: 4px 0 12px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; margin-bottom: 12px; }
.kpi, .card { background: #fff; border: 1px solid #dee2e6; border-radius: 8px; padding: 10px; }
.kpi b { display: block; font-size: 1.4rem; }
.kpi span { font-size: 0.8rem; color: #495057; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
.wide { grid-column: 1 / -1; }
svg text { font-size: 14px; fill: #495057; }
svg text.axis { font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
td { padding: 4px; border-top: 1px solid #f1f3f5; word-break: break-all; }
td:last-child { text-align: right; white-space: nowrap; }
#alerts { margin: 0; padding-left: 18px; font-size: 0.9rem; }
#alerts li.alert { color: #c92a2a; margin-bottom: 4px; word-break: break-word; }
#hostnames { margin: 0; padding-left: 18px; font-size: 0.9rem; word-break: break-all; }
#hostnames li[data-state="active"] { color: #2f9e44; }
#hostnames li[data-state="failed"] { color: #e03131; }
`;

export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Qaxal Edge · dashboard</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-state="init">
<h1>Qaxal Edge</h1>
<form id="token-form">
  <input id="token" type="password" placeholder="admin token" autocomplete="off" aria-label="admin token">
  <input id="container" placeholder="container (all)" aria-label="container">
  <select id="since" aria-label="window">
    <option value="1h">1 hour</option><option value="6h">6 hours</option>
    <option value="24h" selected>24 hours</option><option value="7d">7 days</option>
  </select>
  <button type="submit">Show</button>
</form>
<div id="status" role="status"></div>
<div id="range"></div>
<div class="kpis">
  <div class="kpi"><b id="kpi-requests">–</b><span>requests</span></div>
  <div class="kpi"><b id="kpi-p50">–</b><span>p50 proxy latency</span></div>
  <div class="kpi"><b id="kpi-p95">–</b><span>p95 proxy latency</span></div>
  <div class="kpi"><b id="kpi-rewrites">–</b><span>cookie-keeper rewrites</span></div>
  <div class="kpi"><b id="kpi-sessions">–</b><span>detected sessions</span></div>
  <div class="kpi"><b id="kpi-recovered">–</b><span>sessions recovered</span></div>
</div>
<div class="cards">
  <section class="card wide"><h2>Alerts</h2><ul id="alerts"></ul></section>
  <section class="card wide"><h2>Requests over time (red: 5xx)</h2><div id="chart-requests"></div></section>
  <section class="card"><h2>Status mix</h2><div id="chart-status"></div></section>
  <section class="card"><h2>Detection rates (share of sessions)</h2><div id="chart-detection"></div></section>
  <section class="card wide"><h2>Top paths</h2><table><tbody id="top-paths"></tbody></table></section>
  <section class="card wide"><h2>Custom domains</h2><ul id="hostnames"></ul></section>
</div>
<script nonce="${nonce}">${CLIENT_SCRIPT}</script>
</body>
</html>`;
}

/** Only the page's own nonce'd script and style run; it may talk to its own origin and nothing else. */
export function dashboardHeaders(nonce: string): HeadersInit {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
  };
}
