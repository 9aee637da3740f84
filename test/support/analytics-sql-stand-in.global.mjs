// vitest globalSetup for the Workers-runtime suite: the Analytics Engine SQL API stand-in
// (analytics-sql-stand-in.mjs), its URL handed to the tests as inject("analyticsSqlStandInUrl").
import { startAnalyticsSqlStandIn } from "./analytics-sql-stand-in.mjs";

export default async function setup(project) {
  const standIn = await startAnalyticsSqlStandIn();
  project.provide("analyticsSqlStandInUrl", standIn.url);
  return () => standIn.close();
}
