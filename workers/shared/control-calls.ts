// What the edge Worker may ask the control Worker over its private RPC binding CONTROL_CALLS (a named entrypoint of
// the control Worker, so never reachable from the internet). Types only: the edge must not bundle control code.

export interface KeyMissResult {
  /** The container the control plane says owns the key, or null when none does (or nobody could tell). */
  owner: string | null;
  /** Whether the owner's Durable Object queued a repair (it does so at most every 30 s). */
  queued: boolean;
}

export interface ControlCalls {
  /** Live traffic missed `key` (a host) in KV: find its owner and have the owner's keys repaired. */
  keyMissed(key: string): Promise<KeyMissResult>;
}
