// vitest globalSetup: one stand-in for Cloudflare's custom hostname API (cloudflare-api-stand-in.mjs) for the whole
// run, its URL handed to the tests with project.provide (read it with inject("cloudflareStandInUrl")). Each test
// uses its own tenant (`<url>/t/<tenant>/client/v4` as CF_API_BASE), so tests sharing the server stay independent.
import { startCloudflareApiStandIn } from "./cloudflare-api-stand-in.mjs";

/** The API token and zone the stand-in accepts; tests give them to the Worker as CF_API_TOKEN and CF_ZONE_ID. */
export const STAND_IN_CF_TOKEN = "stand-in-cf-api-token-5f1d";
export const STAND_IN_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";

export default async function setup(project) {
  const standIn = await startCloudflareApiStandIn({ token: STAND_IN_CF_TOKEN, zoneId: STAND_IN_ZONE_ID });
  project.provide("cloudflareStandInUrl", standIn.url);
  // custom-hostname-refresh.test.ts: 100 hostnames by default; HOSTNAME_SCALE=1000 for the measured run (~17 min).
  project.provide("hostnameScale", Number(process.env.HOSTNAME_SCALE) || 100);
  return () => standIn.close();
}
