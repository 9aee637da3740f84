// A COOKIE_VAULT value that fails its schema (written by an older edge, or by hand) is no backup: nothing in it is
// restored, and the next write replaces it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { vaultKey } from "../../workers/loader/vault";
import { boot, config, FPID, restored } from "./loader-support";

describe("an invalid stored backup", () => {
  it("restores nothing from it", async () => {
    const shop = config("vault-invalid");
    const identity = "FPID2.2.invalidvault.1700000000";
    await env.COOKIE_VAULT.put(
      vaultKey(shop.containerId, identity),
      JSON.stringify({ cookies: { _ga: "GA1.1.old.old" }, savedAt: "yesterday" }),
    );
    expect(await restored(await boot(shop, {}, { cookie: FPID("invalidvault") }))).toEqual([]);
  });

  it("is replaced by the next backup", async () => {
    const shop = config("vault-replace");
    const identity = "FPID2.2.replacevault.1700000000";
    const key = vaultKey(shop.containerId, identity);
    await env.COOKIE_VAULT.put(key, JSON.stringify({ cookies: "not a map" }));
    await boot(shop, { _ga: "GA1.1.new.new" }, { cookie: FPID("replacevault") });
    expect(await env.COOKIE_VAULT.get(key, "json")).toMatchObject({ cookies: { _ga: "GA1.1.new.new" }, savedAt: expect.any(Number) });
  });
});
