// The traffic mix of the cost model: what one visitor session sends to the edge. These are assumptions (stated, not
// measured); change them here and `npm run cost` prices the new mix. Every session runs on a container with every
// module on (Cookie Keeper, cookie restoration, ad-block detection), the costliest case: without restoration the
// loader sends no /boot.
export const MIX = {
  cookieRestoration: true,
  // New visitors arrive without cookies; returning ones bring FPID, _ga, a cookie backup from an earlier visit and the
  // backup marker that visit left.
  newVisitorShare: 0.6,
  // Page views per session as [pages, weight]: many sessions bounce after one page.
  pagesPerSession: [
    [1, 0.45],
    [2, 0.2],
    [3, 0.15],
    [5, 0.2],
  ],
  // GA4 hits per page view through the proxy path: page_view, scroll, user_engagement.
  collectsPerPage: 3,
  // The loader script (Cache-Control max-age 300) and gtm.js are fetched once per session; the browser's cache
  // answers the session's later page views.
  // Ad-block detection runs once per session: the bait request (which a blocker stops before it reaches the edge)
  // and the beacon.
  adblockShare: 0.3,
  // GA4's own script (gtag, loaded by GTM) rewrites its `_ga_<ID>` session cookie on every page view. The demo
  // container keeps `_ga_*`; the edge treats the cookie as volatile, so its changes alone write nothing.
  ga4SessionCookie: true,
  // The edge's backup marker (docs/cookies.md): a /boot whose browser shows what its backup holds reads no KV.
  // false prices the edge before it, when every /boot with FPID read the vault and GA4's cookie forced writes.
  backupMarker: true,
  // Returning sessions that bring a new value of another kept cookie (a new _fbp after an ad click): their first
  // /boot reads the vault and writes the backup.
  changedCookieShare: 0.1,
  // Sessions a returning visitor has per month: the first after its backup turned 30 days old reads and rewrites it
  // (the vault's refresh, so a loyal visitor's entry never reaches its 400-day expiry).
  returningSessionsPerMonth: 4,
  // Visitor countries (request.cf.country), which the access records and Analytics Engine points carry.
  countries: [
    ["DE", 0.5],
    ["AT", 0.1],
    ["CH", 0.1],
    ["US", 0.15],
    ["FR", 0.15],
  ],
};
