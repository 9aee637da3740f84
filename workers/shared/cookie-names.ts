// Cookie name lists as the config writes them (CONTRACT.md "Cookie Keeper"): a name matches exactly, and an entry
// ending in `*` matches every name that starts with what comes before it. Used by Cookie Keeper and the loader's
// vault; the browser script carries the same rule in a few bytes of its own (workers/loader/client.ts).

export type CookieNameTest = (name: string) => boolean;

/** Compiles a list once, for a rule that is checked against many names. */
export function cookieNameTest(patterns: readonly string[]): CookieNameTest {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith("*")) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return (name) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
}
