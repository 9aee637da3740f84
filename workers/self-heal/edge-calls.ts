// The control Worker's private RPC entrypoint for the edge Worker (binding CONTROL_CALLS in wrangler.jsonc, with
// `entrypoint: "EdgeCalls"`). A named entrypoint is reachable only through a service binding, never from the
// internet, so it needs no secret.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { ControlCalls, KeyMissResult } from "../shared/control-calls";
import { keyMissed } from "./key-miss";

export class EdgeCalls extends WorkerEntrypoint<Env> implements ControlCalls {
  keyMissed(key: string): Promise<KeyMissResult> {
    return keyMissed(this.env, key);
  }
}
