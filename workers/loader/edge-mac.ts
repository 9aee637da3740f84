// Keyed MACs for what only this edge may have issued: the identity proof (identity-proof.ts) and the `_sid` session
// id (session.ts). A client can send any identity or session id it likes; one the edge did not vouch for creates
// nothing durable. The key is derived from EDGE_AUTH_SECRET with HKDF and a label of its own, so no new secret has to
// be deployed, and a MAC (which clients see) reveals nothing about the secret or about any other key derived from it.
import { bytesToBase64url } from "../shared/base64url";
import { EdgeError } from "../shared/errors";

const LABEL = new TextEncoder().encode("qaxal-edge loader mac v1");

// One derivation per isolate (and per secret, should a rotation reach a live isolate).
let cached: { secret: string; key: Promise<CryptoKey> } | null = null;

function macKey(secret: string): Promise<CryptoKey> {
  if (cached?.secret !== secret) {
    const key = crypto.subtle
      .importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: LABEL },
          base,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign"],
        ),
      );
    cached = { secret, key };
  }
  return cached.key;
}

/** What a MAC is for: part of the signed text, so a MAC made for one purpose never passes as another. */
export type MacPurpose = "identity" | "session";

/**
 * The first `bytes` bytes of HMAC-SHA256 over purpose, container and value. The container is in it, so a MAC
 * vouches for its own container only (a cookie shared across a registrable domain does not carry over).
 */
export async function edgeMac(
  env: Pick<Env, "EDGE_AUTH_SECRET">,
  purpose: MacPurpose,
  containerId: string,
  value: string,
  bytes: number,
): Promise<Uint8Array> {
  // An unset secret would make every MAC computable by anyone: refuse rather than vouch with it.
  if (!env.EDGE_AUTH_SECRET) throw new EdgeError(503, "not_configured", "the edge cannot issue identities or sessions now");
  const text = new TextEncoder().encode(`${purpose}\n${containerId}\n${value}`);
  const mac = await crypto.subtle.sign("HMAC", await macKey(env.EDGE_AUTH_SECRET), text);
  return new Uint8Array(mac, 0, bytes);
}

export async function edgeMacText(
  env: Pick<Env, "EDGE_AUTH_SECRET">,
  purpose: MacPurpose,
  containerId: string,
  value: string,
  bytes: number,
): Promise<string> {
  return bytesToBase64url(await edgeMac(env, purpose, containerId, value, bytes));
}

/** Constant-time comparison of two base64url MAC texts (different lengths are simply unequal). */
export function sameMac(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}
