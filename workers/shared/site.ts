// What the router resolved for a request on a customer host; handed to the loader for its paths.
import type { EdgeConfig } from "../../schemas/edge-config";

export interface Site {
  containerId: string;
  config: EdgeConfig;
  /** The client-facing host (X-Public-Host when honoured, else the request host), lower-case, no port. */
  publicHost: string;
  /** Same-origin mode mount prefix such as "/metrics", or "" when the Worker owns the whole host. */
  mountPrefix: string;
  /** The request path with the mount prefix stripped (always starts with "/"). */
  path: string;
  url: URL;
  /** Date.now() when the request arrived (for access-record durations). */
  startedAt: number;
}
