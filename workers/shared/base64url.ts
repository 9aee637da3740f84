// base64url (RFC 4648 §5) without padding: the router's proxy parameter, the loader's encoded tag paths and the
// random identifiers the edge issues (FPID, `_sid`, API keys), the log search's cursor and the digest in the
// loader's backup marker.

export function bytesToBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function textToBase64url(text: string): string {
  return bytesToBase64url(new TextEncoder().encode(text));
}

/** `length` random bytes as base64url. */
export function randomBase64url(length: number): string {
  return bytesToBase64url(crypto.getRandomValues(new Uint8Array(length)));
}

/** The bytes `encoded` names, or null when it is not base64url (padding tolerated). */
function base64urlToBytes(encoded: string): Uint8Array | null {
  let binary: string;
  try {
    binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// ignoreBOM keeps a leading BOM in the text, so a proxy target fails the "starts with /" check instead of losing it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The UTF-8 text `encoded` names, or null when it is not base64url or not valid UTF-8. */
export function base64urlToText(encoded: string): string | null {
  const bytes = base64urlToBytes(encoded);
  if (bytes === null) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
