// The obfuscated proxy path's parameter: `p` = base64url(path + query) of the upstream request. Whatever it
// decodes to is appended to the container's upstream origin, so only a plain absolute path may come out; anything
// that could move the request to another host or directory is refused (the caller answers 400 and fetches nothing).
import { base64urlToText } from "../shared/base64url";

/** Longer than any real tracking URL, short enough that decoding stays cheap. */
const MAX_ENCODED_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
/** Raw: C0 and C1 controls, space, DEL, backslash and '#' (a fragment is never part of a request target). */
const FORBIDDEN_RAW = /[\u0000-\u0020\u007f-\u009f\\#]/;
/** After percent-decoding the path: ASCII controls and backslash (decoded bytes >= 0x80 are UTF-8, not C1). */
const FORBIDDEN_DECODED = /[\u0000-\u001f\u007f\\]/;
const PERCENT_ESCAPES = /%([0-9A-Fa-f]{2})/g;
const HAS_PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
/** Deeper nesting than this is not a real URL, only an attempt to outlast the decoder. */
const MAX_DECODE_ROUNDS = 4;

/**
 * Percent-decodes byte-wise until nothing changes, so `%2e%2e`, `%252e%252e` and `%5c` are seen as what an
 * upstream that decodes (once or more) would see. Null when the nesting is deeper than MAX_DECODE_ROUNDS.
 */
function fullyDecoded(path: string): string | null {
  let current = path;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    if (!current.includes("%")) return current;
    const next = current.replace(PERCENT_ESCAPES, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === current) return current;
    current = next;
  }
  return HAS_PERCENT_ESCAPE.test(current) ? null : current;
}

function hasDotSegment(path: string): boolean {
  for (const segment of path.split("/")) if (segment === "." || segment === "..") return true;
  return false;
}

/** True when `target` is an absolute path (+ query) that cannot leave the upstream origin or its root. */
export function isSafeTarget(target: string): boolean {
  if (target.charCodeAt(0) !== 47 /* / */ || target.charCodeAt(1) === 47 || FORBIDDEN_RAW.test(target)) return false;
  const query = target.indexOf("?");
  const decoded = fullyDecoded(query === -1 ? target : target.slice(0, query));
  return decoded !== null && !decoded.startsWith("//") && !FORBIDDEN_DECODED.test(decoded) && !hasDotSegment(decoded);
}

/** The upstream path + query `encoded` names, or null when it is not valid base64url or not a safe target. */
export function decodeProxyTarget(encoded: string): string | null {
  if (encoded.length > MAX_ENCODED_LENGTH || !BASE64URL.test(encoded)) return null;
  const target = base64urlToText(encoded);
  return target !== null && isSafeTarget(target) ? target : null;
}
