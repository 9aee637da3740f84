// The dashboard's browser script (served inline with the page's CSP nonce; no libraries, no CDN). Three views:
// overview (GET /_edge/admin/report), logs (GET /_edge/admin/logs) and containers (GET /_edge/admin/fleet).
// The container picker offers only the containers the fleet names, so a typo cannot show an empty report.
// The token lives in sessionStorage and is sent only as an Authorization header to the same origin.
export const DASHBOARD_CLIENT = `
"use strict";
var SVG = "http://www.w3.org/2000/svg";
var STATUS = {
  "2xx": { color: "#2f9e44", words: "2xx · answered fine" },
  "3xx": { color: "#1c7ed6", words: "3xx · redirected or unchanged" },
  "4xx": { color: "#f08c00", words: "4xx · refused or not found" },
  "5xx": { color: "#e03131", words: "5xx · server error" },
  other: { color: "#868e96", words: "other" }
};
var $ = function (id) { return document.getElementById(id); };
var TOKEN_KEY = "qaxal-admin-token";
var state = { view: "overview", report: null, logsCursor: null, containersNext: null, ids: null, wanted: null };

function h(tag, props, children) {
  var node = document.createElement(tag);
  for (var k in props || {}) {
    if (k === "text") node.textContent = props[k];
    else if (k === "class") node.className = props[k];
    else node.setAttribute(k, props[k]);
  }
  (children || []).forEach(function (c) { if (c) node.appendChild(c); });
  return node;
}
function s(tag, attrs, text) {
  var node = document.createElementNS(SVG, tag);
  for (var k in attrs) node.setAttribute(k, String(attrs[k]));
  if (text !== undefined) node.textContent = text;
  return node;
}
function num(x) { return x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"); }
function pct(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %"; }
function ms(x) { return x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US") + " ms"; }
function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(path) {
  var res = await fetch(path, { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
  // A refused token is forgotten so the form asks again.
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  return res;
}
async function apiJson(path) {
  var res = await api(path);
  var json = await res.json().catch(function () { return {}; });
  if (!res.ok) { var e = new Error(json.message || ("HTTP " + res.status)); e.status = res.status; throw e; }
  return json;
}

// ---------- formatting of times ----------
function spanLabel(seconds) {
  if (seconds < 60) return seconds + " seconds";
  if (seconds < 3600) return seconds === 60 ? "1 minute" : seconds / 60 + " minutes";
  if (seconds < 86400) return seconds / 3600 === 1 ? "1 hour" : seconds / 3600 + " hours";
  return seconds / 86400 === 1 ? "1 day" : seconds / 86400 + " days";
}
function timeLabel(date, bucketSeconds, spanMs) {
  if (spanMs > 36 * 3600e3) return date.toLocaleDateString("en-GB", { weekday: "short", day: "numeric" }) + (bucketSeconds < 86400 ? " " + date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) : "");
  return date.toLocaleTimeString("en-GB", bucketSeconds < 60 ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
}
function niceStep(max, ticks) {
  var raw = Math.max(max, 1) / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).find(function (x) { return x >= raw; });
  return Math.max(1, step);
}

// ---------- the requests chart ----------
function requestsChart(report) {
  var box = $("chart-requests");
  var series = report.requests.series, bucketSeconds = report.requests.bucketSeconds;
  var width = Math.max(box.clientWidth, 260), height = width < 500 ? 190 : 230;
  var left = 46, right = 8, top = 10, bottom = 26, plotW = width - left - right, plotH = height - top - bottom;
  var hasPrev = series.some(function (b) { return b.previous !== null; });
  var max = Math.max.apply(null, series.map(function (b) { return Math.max(b.count, b.previous || 0); }).concat([1]));
  var step = niceStep(max, 4), top_ = Math.ceil(max / step) * step;
  var y = function (v) { return top + plotH - (v / top_) * plotH; };
  var bw = plotW / Math.max(series.length, 1);
  var chart = s("svg", { viewBox: "0 0 " + width + " " + height, height: height, role: "img", "aria-label": "Requests over time" });
  for (var v = 0; v <= top_; v += step) {
    chart.appendChild(s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }));
    chart.appendChild(s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v >= 10000 ? (v / 1000).toLocaleString("en-US") + "k" : v.toLocaleString("en-US")));
  }
  series.forEach(function (b, i) {
    var x = left + i * bw, gap = bw > 6 ? 1 : 0;
    if (b.count > 0) chart.appendChild(s("rect", { x: x + gap, y: y(b.count), width: Math.max(bw - 2 * gap, 1), height: y(0) - y(b.count), fill: "#4dabf7", class: "bar" }));
    if (b.errors > 0) chart.appendChild(s("rect", { x: x + gap, y: y(b.errors), width: Math.max(bw - 2 * gap, 1), height: y(0) - y(b.errors), fill: "#e03131", class: "bar-errors" }));
  });
  if (hasPrev) {
    var pts = series.map(function (b, i) { return (left + (i + 0.5) * bw).toFixed(1) + "," + y(b.previous || 0).toFixed(1); }).join(" ");
    chart.appendChild(s("polyline", { points: pts, class: "prev" }));
  }
  // Time labels: on day boundaries for a week, else every few buckets; never closer than 80 pixels.
  var spanMs = new Date(report.to) - new Date(report.from), lastX = -Infinity;
  var every = Math.max(1, Math.ceil(series.length / Math.max(2, Math.floor(plotW / 90))));
  series.forEach(function (b, i) {
    var date = new Date(b.t), x = left + i * bw;
    var dayStart = i > 0 && date.getDate() !== new Date(series[i - 1].t).getDate();
    var wanted = spanMs > 36 * 3600e3 ? dayStart : i % every === 0 && i > 0;
    if (!wanted || x - lastX < 80 || x > width - right - 30) return;
    lastX = x;
    var label = spanMs > 36 * 3600e3 ? date.toLocaleDateString("en-GB", { weekday: "short", day: "numeric" }) : timeLabel(date, bucketSeconds, spanMs);
    chart.appendChild(s("line", { x1: x, x2: x, y1: top + plotH, y2: top + plotH + 4, class: "grid" }));
    chart.appendChild(s("text", { x: x, y: height - 8, "text-anchor": "middle" }, label));
  });
  // Hover (or tap) targets, one per bucket, for the tooltip.
  series.forEach(function (b, i) {
    var hit = s("rect", { x: left + i * bw, y: top, width: bw, height: plotH, fill: "transparent", class: "hit", "data-i": i });
    hit.appendChild(s("title", {}, tooltipText(b, bucketSeconds, spanMs)));
    chart.appendChild(hit);
  });
  chart.addEventListener("pointermove", showTip);
  chart.addEventListener("pointerdown", showTip);
  chart.addEventListener("pointerleave", function () { $("tooltip").hidden = true; });
  box.replaceChildren(chart, h("div", { id: "tooltip", hidden: "" }));
}
function tooltipText(b, bucketSeconds, spanMs) {
  var from = new Date(b.t);
  var text = timeLabel(from, bucketSeconds, spanMs) + " (" + spanLabel(bucketSeconds) + "): " + num(b.count) + " requests";
  if (b.errors) text += ", " + num(b.errors) + " server errors";
  if (b.previous !== null) text += " · previous period: " + num(b.previous);
  return text;
}
function showTip(event) {
  var target = document.elementFromPoint(event.clientX, event.clientY);
  if (!target || !target.classList || !target.classList.contains("hit")) return;
  var report = state.report, b = report.requests.series[Number(target.getAttribute("data-i"))];
  var tip = $("tooltip"), box = $("chart-requests").getBoundingClientRect();
  tip.textContent = tooltipText(b, report.requests.bucketSeconds, new Date(report.to) - new Date(report.from));
  tip.hidden = false;
  var x = event.clientX - box.left, maxX = box.width - tip.offsetWidth;
  tip.style.left = Math.max(0, Math.min(maxX, x - tip.offsetWidth / 2)) + "px";
  tip.style.top = Math.max(0, event.clientY - box.top - tip.offsetHeight - 12) + "px";
  document.querySelectorAll("#chart-requests .hit.active").forEach(function (n) { n.classList.remove("active"); });
  target.classList.add("active");
}

// ---------- bar lists ----------
function barList(id, rows, total, color) {
  var list = h("ul", { class: "bars" });
  var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1e-9]));
  rows.forEach(function (r) {
    var fill = h("div", { class: "fill" });
    fill.style.width = Math.max(0, (r.value / max) * 100) + "%";
    fill.style.background = r.color || color;
    list.appendChild(h("li", { title: r.title || r.label }, [
      h("span", { class: "name", text: r.label }),
      h("div", { class: "track" }, [fill]),
      h("span", { class: "num", text: r.text || (num(r.value) + (total ? " · " + pct(r.value / total) : "")) })
    ]));
  });
  $(id).replaceChildren(rows.length ? list : h("p", { class: "empty", text: "Nothing in this period." }));
}

// ---------- overview ----------
function delta(id, now, before, badWhenUp) {
  var node = $(id);
  if (before === null || before === undefined || now === null || before === 0) { node.textContent = ""; node.className = "delta"; return; }
  var change = (now - before) / before, dir = Math.abs(change) < 0.005 ? "flat" : change > 0 ? "up" : "down";
  node.textContent = (dir === "up" ? "▲ " : dir === "down" ? "▼ " : "") + (change > 0 ? "+" : "") + (change * 100).toFixed(1) + " % vs previous period";
  node.className = "delta " + dir + (badWhenUp ? " bad" : "");
}
function renderOverview(report) {
  state.report = report;
  var total = report.requests.total, p = report.previous, d = report.detection;
  var errorShare = total ? report.requests.errors / total : null;
  $("kpi-requests").textContent = num(total);
  delta("delta-requests", total, p && p.requests);
  $("kpi-errors").textContent = pct(errorShare);
  delta("delta-errors", report.requests.errors, p && p.errors, true);
  $("errors-by").textContent = "";
  $("kpi-latency").textContent = report.latencyMs.p50 === null ? "–" : num(report.latencyMs.p50) + " / " + ms(report.latencyMs.p95);
  delta("delta-latency", report.latencyMs.p95, p && p.latencyP95, true);
  $("kpi-rewrites").textContent = num(report.cookieKeeper.rewrites);
  $("kpi-sessions").textContent = num(d.sessions);
  delta("delta-sessions", d.sessions, p && p.sessions);
  $("kpi-recovered").textContent = pct(d.recoveredRate);
  delta("delta-recovered", d.recoveredRate, p && p.recoveredRate);
  // Shown only where bot detection checked some traffic (containers with the module on).
  $("kpi-bots-card").hidden = report.bots.requestsChecked === 0;
  $("kpi-bots").textContent = pct(report.bots.requestShare);
  delta("delta-bots", report.bots.requestShare, p && p.botShare, true);

  var spanMs = new Date(report.to) - new Date(report.from);
  var where = report.source === "r2"
    ? "read from " + report.objectsRead.toLocaleString("en-US") + (report.objectsRead === 1 ? " stored log file" : " stored log files") + (report.truncated ? " (too many to read them all: the newest part is shown)" : "")
    : "read from Analytics Engine";
  $("range").textContent = (report.containerId || "All containers") + " · last " + spanLabel(Math.round(spanMs / 1000)) + " (" +
    new Date(report.from).toLocaleString("en-GB") + " – " + new Date(report.to).toLocaleString("en-GB") + ", your local time) · " + where;
  $("bucket-note").textContent = "Each bar is " + spanLabel(report.requests.bucketSeconds) + ". Hover or tap a bar for its numbers." +
    (p ? " The dashed line is the same stretch of the period before." : " No comparison: the period before could not be read whole.");
  requestsChart(report);

  var classes = Object.keys(report.statusClasses).sort().map(function (k) {
    var info = STATUS[k] || STATUS.other;
    return { label: info.words, value: report.statusClasses[k], color: info.color };
  });
  barList("chart-status", classes, total);
  var detection = [
    { label: "ad blocker", value: d.adblockRate || 0, text: pct(d.adblockRate), color: "#f08c00", title: d.adblock + " of " + d.sessions + " sessions" },
    { label: "Safari / iOS ITP", value: d.itpRate || 0, text: pct(d.itpRate), color: "#7048e8", title: d.itp + " of " + d.sessions + " sessions" }
  ];
  detection.push({ label: "Firefox ETP", value: d.etpRate || 0, text: pct(d.etpRate), color: "#e8590c", title: d.etp + " of " + d.sessions + " sessions" });
  detection.push({ label: "saved by first-party", value: d.recoveredRate || 0, text: pct(d.recoveredRate), color: "#2f9e44" });
  barList("chart-detection", d.sessions ? detection : [], 0);
  var modeWords = { "same-origin": "same domain as the shop", subdomain: "tracking subdomain", "cross-site": "another site", unknown: "not measured" };
  var modes = Object.keys(modeWords).filter(function (k) { return d.modes && d.modes[k] > 0; });
  barList("chart-modes", modes.map(function (k) { return { label: modeWords[k], value: d.modes[k], color: k === "cross-site" ? "#e03131" : k === "subdomain" ? "#f08c00" : k === "same-origin" ? "#2f9e44" : "#adb5bd" }; }), d.sessions);
  barList("chart-hosts", report.hosts.map(function (x) { return { label: x.host, value: x.count }; }), total, "#4dabf7");
  barList("chart-countries", report.countries.map(function (x) { return { label: x.country === "unknown" ? "unknown" : x.country, value: x.count }; }), total, "#20c997");
  barList("chart-paths", report.topPaths.map(function (x) { return { label: x.path, value: x.count }; }), total, "#748ffc");
  barList("chart-codes", report.statuses.map(function (x) {
    var cls = STATUS[Math.floor(x.status / 100) + "xx"] || STATUS.other;
    return { label: String(x.status), value: x.count, color: cls.color };
  }), total);
}
async function loadOverview() {
  var params = new URLSearchParams({ since: $("since").value });
  var container = $("container").value;
  if (container) params.set("container", container);
  renderOverview(await apiJson("/_edge/admin/report?" + params));
  await Promise.all([loadAlerts(container), loadHostnames(container), container ? null : loadErrorsBy()]);
}
// Which containers the platform's server errors come from: "shop7 (92.0 %), shop3 (4.0 %)", each with its own share.
async function loadErrorsBy() {
  try {
    var fleet = await apiJson("/_edge/admin/fleet?" + new URLSearchParams({ since: $("since").value, limit: "1" }));
    $("errors-by").textContent = fleet.platform.topErrors.length ? "from " + fleet.platform.topErrors.map(function (t) { return t.containerId + " (" + pct(t.errorShare) + ")"; }).join(", ") : "";
  } catch (error) {
    $("errors-by").textContent = "";
  }
}
// Open alerts (GET /_edge/admin/alerts) for the chosen container or all; a failure here leaves the report shown.
async function loadAlerts(container) {
  var list = $("alerts");
  try {
    var json = await apiJson("/_edge/admin/alerts");
    var open = json.open.filter(function (a) { return !container || a.containerId === null || a.containerId === container; });
    list.replaceChildren.apply(list, open.map(function (a) {
      return h("li", { class: "alert", text: a.message + " (since " + new Date(a.raisedAt).toLocaleString("en-GB") + ")" });
    }));
    if (!open.length) list.textContent = "No open alerts.";
  } catch (error) {
    list.textContent = "Could not load the alerts: " + error.message;
  }
}
// Customer domains of the chosen container (its status' hostnames, docs/custom-domains.md).
async function loadHostnames(container) {
  var list = $("hostnames");
  list.replaceChildren();
  if (!container) { list.textContent = "Choose a container to see its own domains."; return; }
  try {
    var status = await apiJson("/_edge/admin/containers/" + encodeURIComponent(container) + "/status");
    (status.hostnames || []).forEach(function (x) {
      var li = h("li", { text: x.host + " · " + x.state + " · " + (x.live ? "live" : "not live yet") + (x.errors.length ? " · " + x.errors.join("; ") : "") });
      li.dataset.state = x.state;
      list.appendChild(li);
    });
    if (!list.children.length) list.textContent = "None set up: traffic uses the hosts in the container's settings.";
  } catch (error) {
    list.textContent = "No status for " + container + ": " + error.message;
  }
}

// ---------- logs ----------
function logParams() {
  var params = new URLSearchParams({ since: $("since").value, limit: "100" });
  if ($("container").value.trim()) params.set("container", $("container").value.trim());
  [["log-status", "status"], ["log-path", "path"], ["log-host", "host"], ["log-kind", "kind"]].forEach(function (pair) {
    var value = $(pair[0]).value.trim();
    if (value) params.set(pair[1], value);
  });
  return params;
}
function shortTime(ts) {
  var d = new Date(ts);
  return d.toLocaleDateString("en-GB", { day: "2-digit", month: "2-digit" }) + " " + d.toLocaleTimeString("en-GB");
}
function logRow(r) {
  var cells = r.kind === "detection"
    ? [shortTime(r.ts), r.host, "session", (r.adblock ? "ad blocker " : "") + (r.itp ? "ITP" : "") || "no blocker", "", "", r.country || ""]
    : [shortTime(r.ts), r.host, r.method, r.path, String(r.status), ms(r.durationMs), r.country || ""];
  var row = h("tr", { "data-ts": String(r.ts) }, cells.map(function (text, i) {
    return h("td", { text: text, class: i === 3 ? "path" : i === 1 || i === 2 || i === 6 ? "wide-only" : "" });
  }));
  if (r.kind === "access") row.children[4].style.color = (STATUS[Math.floor(r.status / 100) + "xx"] || STATUS.other).color;
  return row;
}
/** Follows the search's cursor until a screenful is loaded (pages read a bounded number of log files each). */
async function loadLogs(more) {
  var path = more && state.logsCursor ? state.logsCursor : "/_edge/admin/logs?" + logParams();
  var rows = more ? Array.prototype.slice.call($("log-rows").children) : [];
  var loaded = 0;
  for (var pages = 0; path && pages < 5 && loaded < 100; pages += 1) {
    var page = await apiJson(path);
    page.records.forEach(function (r) { rows.push(logRow(r)); });
    loaded += page.records.length;
    path = page.next;
  }
  state.logsCursor = path;
  // Newest first (the store is ordered by hour only).
  rows.sort(function (a, b) { return Number(b.getAttribute("data-ts")) - Number(a.getAttribute("data-ts")); });
  $("log-rows").replaceChildren.apply($("log-rows"), rows);
  $("log-more").hidden = !path;
  $("log-summary").textContent = rows.length ? rows.length.toLocaleString("en-US") + " records shown" + (path ? " · older ones: Load more" : " · that is all in this period") : "No records match these filters in this period.";
}
async function downloadLogs() {
  var params = logParams();
  params.set("format", "ndjson");
  params.set("limit", "1000");
  var res = await api("/_edge/admin/logs?" + params);
  if (!res.ok) throw new Error((await res.json().catch(function () { return {}; })).message || ("HTTP " + res.status));
  var link = h("a", { href: URL.createObjectURL(await res.blob()), download: "qaxal-logs.ndjson" });
  document.body.appendChild(link);
  link.click();
  link.remove();
  var next = res.headers.get("X-Next-Cursor");
  $("log-summary").textContent = "Downloaded up to 1,000 records" + (next ? "; more exist: narrow the filters or use the API's Link header to page on." : ".");
}

// ---------- containers (the fleet) ----------
var HEALTH_WORDS = { fail: "failing", warn: "check", ok: "fine", idle: "quiet", gone: "deleted" };
var SYNC_WORDS = { live: "live", updating: "updating", failing: "not going live", deleted: "deleted" };
function ago(iso) {
  if (!iso) return "–";
  var s = Math.max(0, Math.round((Date.now() - new Date(iso)) / 1000));
  return s < 90 ? s + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : s < 172800 ? Math.round(s / 3600) + " h ago" : Math.round(s / 86400) + " days ago";
}
function fleetRows(c) {
  var cells = [
    h("td", { class: "name" }, [h("span", { text: c.containerId }), h("span", { class: "badge " + c.health, text: HEALTH_WORDS[c.health] })]),
    h("td", { text: num(c.requests) }),
    h("td", { class: "num-5xx", text: pct(c.errorShare) }),
    h("td", { class: "wide-only", text: num(c.upstreamErrors) }),
    h("td", { class: "wide-only", text: ago(c.lastSeen) }),
    h("td", { class: "wide-only", text: c.sync ? SYNC_WORDS[c.sync] + (c.appliedVersion ? " · v" + c.appliedVersion : "") : "–" }),
    h("td", { class: "wide-only", text: c.domains.total ? c.domains.live + " of " + c.domains.total + " live" : "–" }),
    h("td", { class: "wide-only", text: c.alerts.length ? String(c.alerts.length) : "–" })
  ];
  var row = h("tr", { class: "row", "data-health": c.health, "data-id": c.containerId }, cells);
  row.addEventListener("click", function () { $("container").value = c.containerId; show("overview"); });
  var rows = [row];
  var why = c.why.concat(c.reasons.map(function (r) { return r.count + "× " + r.reason; }));
  if (why.length) rows.push(h("tr", { class: "why", "data-id": c.containerId }, [h("td", { colspan: "8", text: why.join(" · ") })]));
  return rows;
}
async function loadContainers(more) {
  var params = new URLSearchParams({ since: $("since").value, sort: $("fleet-sort").value, limit: "50" });
  if ($("fleet-q").value.trim()) params.set("q", $("fleet-q").value.trim());
  if (more && state.containersNext) params.set("cursor", state.containersNext);
  var fleet = await apiJson("/_edge/admin/fleet?" + params);
  var body = $("container-list");
  if (!more) body.replaceChildren();
  fleet.containers.forEach(function (c) { fleetRows(c).forEach(function (r) { body.appendChild(r); }); });
  document.querySelectorAll("#fleet th[data-sort]").forEach(function (th) {
    if (th.dataset.sort === $("fleet-sort").value) th.setAttribute("aria-sort", "descending"); else th.removeAttribute("aria-sort");
  });
  state.containersNext = fleet.next;
  $("containers-more").hidden = !fleet.next;
  var shown = body.querySelectorAll("tr.row").length, p = fleet.platform;
  var byHealth = ["fail", "warn", "ok", "idle", "gone"].filter(function (k) { return fleet.counts[k]; }).map(function (k) { return fleet.counts[k] + " " + HEALTH_WORDS[k]; }).join(", ");
  $("containers-summary").textContent = fleet.total
    ? fleet.total.toLocaleString("en-US") + (fleet.total === 1 ? " container" : " containers") + (fleet.total < fleet.ids.length ? " match" : "") + " (" + byHealth + ") · showing " + shown +
      " · all together " + num(p.requests) + " requests, " + pct(p.errorShare) + " server errors" + (fleet.truncated ? " (newest part of the period)" : "")
    : fleet.ids.length ? "No container matches." : "No containers yet.";
}
// The picker's choices: every container the caller may read (the fleet's names), loaded once per sign-in.
async function loadIds() {
  if (state.ids) return;
  var fleet = await apiJson("/_edge/admin/fleet?since=15m&limit=1&sort=name");
  state.ids = fleet.ids;
  var picker = $("container");
  picker.replaceChildren(h("option", { value: "", text: "all containers" }));
  fleet.ids.forEach(function (id) { picker.appendChild(h("option", { value: id, text: id })); });
  if (state.wanted !== null) {
    var wanted = state.wanted;
    state.wanted = null;
    if (fleet.ids.indexOf(wanted) === -1) throw new Error("there is no container named \u201c" + wanted + "\u201d that this key may read");
    picker.value = wanted;
  }
}

// ---------- views, token, events ----------
var LOADERS = { overview: loadOverview, logs: function () { return loadLogs(false); }, containers: function () { return loadContainers(false); } };
async function run(work) {
  if (!token()) { document.body.dataset.state = "need-token"; $("status").textContent = "Enter the admin token or an API key to see the figures."; $("token-row").hidden = false; return; }
  $("token-row").hidden = true;
  document.body.dataset.state = "loading";
  $("status").textContent = "Loading…";
  try {
    await loadIds();
    await work();
    $("status").textContent = "";
    document.body.dataset.state = "ready";
  } catch (error) {
    $("status").textContent = "Could not load: " + error.message;
    document.body.dataset.state = "error";
    if (!token()) $("token-row").hidden = false;
  }
}
function show(view) {
  state.view = view;
  document.body.dataset.show = view;
  document.querySelectorAll("nav button").forEach(function (b) { b.setAttribute("aria-current", b.dataset.target === view ? "page" : "false"); });
  run(LOADERS[view]);
}

var fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
if (fragment.get("container")) state.wanted = fragment.get("container");
if (fragment.get("since")) $("since").value = fragment.get("since");
// The token must not stay in the address bar (history, screenshots, shoulder-surfing).
if (location.hash) history.replaceState(null, "", location.pathname + location.search);

$("controls").addEventListener("submit", function (event) {
  event.preventDefault();
  if ($("token").value) sessionStorage.setItem(TOKEN_KEY, $("token").value);
  $("token").value = "";
  show(state.view);
});
$("sign-out").addEventListener("click", function () { sessionStorage.removeItem(TOKEN_KEY); state.ids = null; show(state.view); });
$("fleet-filters").addEventListener("submit", function (event) { event.preventDefault(); run(function () { return loadContainers(false); }); });
$("fleet-sort").addEventListener("change", function () { run(function () { return loadContainers(false); }); });
document.querySelectorAll("#fleet th[data-sort]").forEach(function (th) {
  th.addEventListener("click", function () { $("fleet-sort").value = th.dataset.sort; run(function () { return loadContainers(false); }); });
});
document.querySelectorAll("nav button").forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.target); }); });
$("log-filters").addEventListener("submit", function (event) { event.preventDefault(); run(function () { return loadLogs(false); }); });
$("log-more").addEventListener("click", function () { run(function () { return loadLogs(true); }); });
$("log-download").addEventListener("click", function () { run(downloadLogs); });
$("containers-more").addEventListener("click", function () { run(function () { return loadContainers(true); }); });
var resizeTimer;
window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(function () { if (state.report && state.view === "overview") requestsChart(state.report); }, 150); });
show(fragment.get("view") || "overview");
`;
