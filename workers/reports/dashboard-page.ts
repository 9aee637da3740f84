// GET /_edge/admin/dashboard: a self-contained page (no CDN, inline SVG and HTML charts) with three views: overview
// (the report), logs (the logs search) and containers (the fleet: every container's traffic, sync and alerts). The page holds no data
// and no secret, so it is served without the bearer token. The operator's token (or an API key) reaches it in the
// URL fragment (`#token=…`, never sent to any server, so never in a log or a Referer) or through the form; it is
// kept in sessionStorage, removed from the address bar, and sent only as an Authorization header to the API on
// the same origin. Every figure carries a sentence saying what it means, for readers who are not engineers.
import { DASHBOARD_CLIENT } from "./dashboard-client";
// The figures' titles and plain-words explanations: the page's copy, kept apart from its markup so it reads (and is
// edited) as one list.
import FIGURES from "./dashboard-figures.json";
import { DASHBOARD_STYLE } from "./dashboard-style";

interface Figure {
  /** The element the page's script fills. */
  id: string;
  title: string;
  explain: string;
  /** Shown by the script only when there is something to show (bot checks run only with the bot module). */
  hidden?: boolean;
}

/** One key figure: title, value, change against the previous period, and what it means in plain words. */
function kpi({ id, title, explain, hidden }: Figure): string {
  return `<section class="kpi" id="${id}-card"${hidden ? " hidden" : ""}><h2>${title}</h2><b id="${id}">–</b><span class="delta" id="${id.replace("kpi-", "delta-")}"></span>${id === "kpi-errors" ? '<span id="errors-by"></span>' : ""}<p class="explain">${explain}</p></section>`;
}

/** One bar chart, drawn into the element `id` by the page's script. */
function card({ id, title, explain }: Figure): string {
  return `<section class="card"><h2>${title}</h2><p class="explain">${explain}</p><div id="${id}"></div></section>`;
}

const OVERVIEW = `
<div data-view="overview">
<div id="range"></div>
<div class="kpis">
${FIGURES.kpis.map(kpi).join("\n")}
</div>
<div class="cards">
<section class="card wide"><h2>Alerts</h2><p class="explain">Problems the edge noticed on its own checks (every 5 minutes): errors, missing traffic, settings not going live.</p><ul id="alerts" class="alerts"></ul></section>
<section class="card wide"><h2>Requests over time</h2><p class="explain" id="bucket-note"></p><div class="chart" id="chart-requests"></div>
<div class="legend"><span><i style-fill="requests"></i>requests</span><span><i style-fill="errors"></i>server errors</span><span><i class="prev"></i>previous period</span></div></section>
${FIGURES.charts.map(card).join("\n")}
<section class="card wide"><h2>Your own tracking domains</h2><p class="explain">Customer domains set up for this container, and whether each is live (its certificate and DNS checked by Cloudflare).</p><ul id="hostnames" class="alerts"></ul></section>
</div>
</div>`;

const LOGS = `
<div data-view="logs">
<p class="explain">Single requests and sessions, newest hour first, straight from the stored logs. Use the filters to find a problem, then download what you found.</p>
<form id="log-filters">
  <select id="log-status" aria-label="answer"><option value="">any answer</option><option value="2xx">2xx answered fine</option><option value="3xx">3xx redirected</option><option value="4xx">4xx refused or not found</option><option value="5xx">5xx server error</option></select>
  <input id="log-path" placeholder="path starts with, e.g. /g/" aria-label="path prefix">
  <input id="log-host" placeholder="tracking domain" aria-label="host">
  <select id="log-kind" aria-label="record kind"><option value="">requests and sessions</option><option value="access">requests only</option><option value="detection">sessions only</option></select>
  <button class="primary" type="submit">Search</button>
  <button type="button" id="log-download">Download NDJSON</button>
</form>
<div id="log-summary" class="explain"></div>
<div class="card scroll"><table><thead><tr><th>time</th><th class="wide-only">domain</th><th class="wide-only">method</th><th>path / result</th><th>status</th><th>took</th><th class="wide-only">country</th></tr></thead><tbody id="log-rows"></tbody></table></div>
<button type="button" id="log-more" class="link" hidden>Load more</button>
</div>`;

const CONTAINERS = `
<div data-view="containers">
<p class="explain">Every container (one per customer setup), worst first. <b>failing</b>: many of its requests fail (over its alert threshold), its newest settings cannot go live, or an error alert is open; <b>check</b>: some errors, a change on its way, a domain not live yet or another alert; <b>fine</b>: traffic answered, settings live; <b>quiet</b>: no requests in the period. Click a row for its traffic.</p>
<form id="fleet-filters">
  <input id="fleet-q" type="search" placeholder="search name or domain" aria-label="search containers">
  <select id="fleet-sort" aria-label="sort by"><option value="health">worst first</option><option value="errors">server error share</option><option value="requests">most requests</option><option value="upstream">upstream errors</option><option value="lastSeen">last seen</option><option value="name">name</option></select>
  <button class="primary" type="submit">Search</button>
</form>
<div id="containers-summary" class="explain"></div>
<div class="card scroll"><table id="fleet"><thead><tr><th data-sort="name">container</th><th data-sort="requests">requests</th><th data-sort="errors">5xx</th><th data-sort="upstream" class="wide-only">upstream errors</th><th data-sort="lastSeen" class="wide-only">last seen</th><th class="wide-only">settings</th><th class="wide-only">domains</th><th class="wide-only">alerts</th></tr></thead><tbody id="container-list"></tbody></table></div>
<button type="button" id="containers-more" class="link" hidden>More containers</button>
</div>`;

export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Qaxal Edge · dashboard</title>
<style nonce="${nonce}">${DASHBOARD_STYLE}
.legend i[style-fill=requests] { background: #4dabf7; } .legend i[style-fill=errors] { background: #e03131; }</style>
</head>
<body data-state="init" data-show="overview">
<header><h1>Qaxal Edge</h1>
<nav><button type="button" data-target="overview">Overview</button><button type="button" data-target="logs">Logs</button><button type="button" data-target="containers">Containers</button></nav>
</header>
<form id="controls">
  <span id="token-row" hidden><input id="token" type="password" placeholder="admin token or API key" autocomplete="off" aria-label="admin token or API key"></span>
  <select id="container" aria-label="container"><option value="">all containers</option></select>
  <select id="since" aria-label="period">
    <option value="15m">last 15 minutes</option><option value="1h">last hour</option><option value="6h">last 6 hours</option>
    <option value="24h" selected>last 24 hours</option><option value="7d">last 7 days</option>
  </select>
  <button class="primary" type="submit">Show</button>
  <button class="link" type="button" id="sign-out">Sign out</button>
</form>
<div id="status" role="status"></div>
${OVERVIEW}
${LOGS}
${CONTAINERS}
<script nonce="${nonce}">${DASHBOARD_CLIENT}</script>
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
