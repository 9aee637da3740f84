// vitest globalSetup for the Workers-runtime suite: one PostgREST stand-in (postgrest-stand-in.mjs) for the whole
// run, its URL handed to the tests with project.provide (read it with inject("postgrestStandInUrl")). Each test
// uses its own tenant (`<url>/t/<tenant>` as SUPABASE_URL), so tests sharing the server stay independent.
import { startPostgrestStandIn } from "./postgrest-stand-in.mjs";

/** The service-role key the stand-in accepts; tests give it to the Worker as SUPABASE_SERVICE_ROLE_KEY. */
export const STAND_IN_SERVICE_KEY = "stand-in-service-role-key";

export default async function setup(project) {
  const standIn = await startPostgrestStandIn({ serviceKey: STAND_IN_SERVICE_KEY });
  project.provide("postgrestStandInUrl", standIn.url);
  return () => standIn.close();
}
