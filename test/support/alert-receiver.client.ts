// Reads the loopback alert-webhook receiver (alert-receiver.global.mjs) from Workers-runtime tests: one channel per
// test, its URL for ALERT_WEBHOOK_URL, what it received, and refusals on demand.
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    alertReceiverUrl: string;
  }
}

export function receiver(channel: string) {
  const base = inject("alertReceiverUrl");
  const received = async () => (await (await fetch(`${base}/__received/${channel}`)).json()) as unknown[];
  return {
    url: `${base}/hook/${channel}`,
    bodies: received,
    texts: async () => ((await received()) as { text: string }[]).map((m) => m.text),
    /** The next `times` posts to this channel answer 500, as a webhook that is down would. */
    failNext: async (times: number) => {
      await fetch(`${base}/__fail/${channel}?times=${times}`, { method: "PUT" });
    },
  };
}

export type Receiver = ReturnType<typeof receiver>;
