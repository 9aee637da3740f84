// Shared-secret checks, compared in constant time.
import { EdgeError } from "./errors";

const encoder = new TextEncoder();

/**
 * Constant-time comparison. Both sides are hashed first so that neither the length nor the content of the
 * secret leaks through timing (timingSafeEqual itself requires equal lengths).
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Throws 401 unless `given` equals a configured, non-empty `expected`. */
export async function requireSecret(given: string | null, expected: string | undefined, what: string): Promise<void> {
  // An unset secret must never let an empty credential through.
  if (!expected || given === null || !(await secretsEqual(given, expected))) {
    throw new EdgeError(401, "unauthorized", `missing or wrong ${what}`);
  }
}
