// The traffic mix of the cost model: what one visitor session sends to the edge. These are assumptions (stated, not
// measured); change them here and `npm run cost` prices the new mix. Every session runs on a container with every
// module on (Cookie Keeper, cookie restoration, ad-block detection), the costliest case: without restoration the
// loader sends no /boot.
export const MIX = {
  cookieRestoration: true,
  // New visitors arrive without cookies; returning ones bring FPID, _ga and a cookie backup from an earlier visit.
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
  // container keeps `_ga_*`, so every /boot after the first backup finds a changed cookie and rewrites the backup.
  ga4SessionCookie: true,
  // Returning sessions in which another kept cookie changed (say a new _fbp after an ad click): a backup write
  // (it only shows when ga4SessionCookie is false; with it, every /boot after the first backup writes anyway).
  changedCookieShare: 0.1,
  // Visitor countries (request.cf.country), which the access records and Analytics Engine points carry.
  countries: [
    ["DE", 0.5],
    ["AT", 0.1],
    ["CH", 0.1],
    ["US", 0.15],
    ["FR", 0.15],
  ],
};
