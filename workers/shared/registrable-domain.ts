// eTLD+1 of a host, for Cookie Keeper's `Domain` attribute and the loader's cookies. A full Public Suffix List is
// ~200 KB; cookies only need the suffixes customers actually use, so a compact list of multi-part public suffixes
// is embedded and every other TLD is treated as a single label.

/** Multi-label public suffixes (ICANN section, the common ones) plus hosting platforms where a cookie on the
 * platform domain would be shared with every other tenant (browsers refuse those anyway). */
const MULTI_PART_SUFFIXES = new Set([
  // United Kingdom
  "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk", "ac.uk", "gov.uk", "nhs.uk", "police.uk",
  // Australia, New Zealand
  "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
  "co.nz", "net.nz", "org.nz", "ac.nz", "govt.nz", "geek.nz", "gen.nz", "kiwi.nz", "school.nz",
  // Japan, Korea, China, Taiwan, Hong Kong, Singapore, South-East Asia, India
  "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "gr.jp", "ed.jp", "lg.jp", "ad.jp",
  "co.kr", "or.kr", "ne.kr", "re.kr", "go.kr", "ac.kr",
  "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn",
  "com.tw", "net.tw", "org.tw", "idv.tw",
  "com.hk", "net.hk", "org.hk", "edu.hk", "gov.hk",
  "com.sg", "net.sg", "org.sg", "edu.sg", "gov.sg",
  "com.my", "net.my", "org.my",
  "co.id", "or.id", "web.id", "ac.id",
  "co.th", "in.th", "or.th", "ac.th",
  "com.vn", "net.vn", "org.vn",
  "com.ph", "net.ph", "org.ph",
  "com.pk", "net.pk", "org.pk",
  "co.in", "net.in", "org.in", "firm.in", "gen.in", "ind.in", "ac.in", "gov.in",
  // Middle East, Africa
  "co.il", "org.il", "net.il", "ac.il",
  "com.tr", "net.tr", "org.tr", "gen.tr",
  "com.sa", "net.sa", "org.sa",
  "com.eg", "net.eg", "org.eg",
  "co.za", "org.za", "net.za", "web.za", "gov.za",
  "co.ke", "or.ke", "ne.ke",
  "com.ng", "net.ng", "org.ng",
  "co.ae", "net.ae", "org.ae",
  // Americas
  "com.br", "net.br", "org.br", "gov.br", "edu.br",
  "com.mx", "net.mx", "org.mx", "gob.mx",
  "com.ar", "net.ar", "org.ar", "gob.ar",
  "com.co", "net.co", "org.co",
  "com.pe", "net.pe", "org.pe",
  "com.uy", "com.ve", "com.ec", "cl.cl",
  // Europe
  "co.at", "or.at", "ac.at", "gv.at",
  "com.pl", "net.pl", "org.pl",
  "com.es", "nom.es", "org.es",
  "com.pt", "org.pt",
  "com.gr", "net.gr", "org.gr",
  "com.ua", "net.ua", "org.ua", "in.ua",
  "com.ru", "net.ru", "org.ru",
  "co.hu", "co.it",
  "com.cy", "com.mt",
  // Hosting platforms (private section of the PSL)
  "github.io", "gitlab.io", "pages.dev", "workers.dev", "vercel.app", "netlify.app", "herokuapp.com",
  "appspot.com", "web.app", "firebaseapp.com", "azurewebsites.net", "cloudfront.net", "blogspot.com",
  "myshopify.com", "wixsite.com", "squarespace.com", "onrender.com", "fly.dev",
]);

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** True for IPv4 and (bracketed or bare) IPv6 literals: they have no registrable domain. */
export function isIpAddress(host: string): boolean {
  return IPV4.test(host) || host.includes(":");
}

/**
 * The registrable domain (eTLD+1) of `host`: `ss.shop1.co.uk` → `shop1.co.uk`, `a.b.example` → `b.example`.
 * IPs and single labels (`localhost`) are returned as they are; `*.localhost` is treated like any TLD, so
 * `ss.shop1.localhost` → `shop1.localhost`. Expects a lower-case host without port (a trailing dot is dropped).
 */
export function registrableDomain(host: string): string {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (isIpAddress(name)) return name;
  const lastDot = name.lastIndexOf(".");
  if (lastDot === -1) return name;
  const secondDot = name.lastIndexOf(".", lastDot - 1);
  if (secondDot === -1) return name;
  // Is the last two-label part itself a public suffix? Then the registrable domain has three labels.
  if (MULTI_PART_SUFFIXES.has(name.slice(secondDot + 1))) {
    const thirdDot = name.lastIndexOf(".", secondDot - 1);
    return thirdDot === -1 ? name : name.slice(thirdDot + 1);
  }
  return name.slice(secondDot + 1);
}
