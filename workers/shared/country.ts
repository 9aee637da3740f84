// The visitor's country for log records, from the CF-IPCountry request header that Cloudflare sets on every
// request (IP Geolocation, on by default) instead of request.cf: reading request.cf parses Cloudflare's whole
// properties object, the largest single cost a proxied request can add. What a spoofed value can do: docs/privacy.md.

/** ISO 3166-1 alpha-2, plus Cloudflare's XX (unknown) and T1 (Tor): two upper-case letters or digits. */
const COUNTRY = /^[A-Z0-9]{2}$/;

export function requestCountry(request: Request): string | null {
  const value = request.headers.get("CF-IPCountry");
  return value !== null && COUNTRY.test(value) ? value : null;
}
