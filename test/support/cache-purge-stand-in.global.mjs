// vitest globalSetup: one stand-in for Cloudflare's purge API (cache-purge-stand-in.mjs) for the whole run, its URL
// handed to the tests (inject("cachePurgeStandInUrl")). Each test uses its own tenant (`<url>/t/<tenant>/client/v4`).
import { startCachePurgeStandIn } from "./cache-purge-stand-in.mjs";

export default async function setup(project) {
  const standIn = await startCachePurgeStandIn({
    token: "stand-in-purge-token-7c2e",
    zoneId: "9a7806061c88ada191ed06f989cc3dac",
    zoneName: "qaxal.example",
  });
  project.provide("cachePurgeStandInUrl", standIn.url);
  return () => standIn.close();
}
