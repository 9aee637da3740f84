// Drives a test's own AnalyticsWindow (durable/analytics-window.ts) and collects what it writes. The object runs in
// this isolate, so its clock is the test's Date.now: the harness parks it an hour ahead at a window's start (the
// object's own alarms are then due an hour from now and never fire during the test), moves it past the window's end
// and runs the alarms itself. Miniflare's Analytics Engine stores nothing, so spies collect the points; other tests'
// objects may fire alarms meanwhile, so only points of this harness's containers are kept.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { AnalyticsWindow } from "../../durable/analytics-window";

export interface Flushed {
  access: AnalyticsEngineDataPoint[];
  sessions: AnalyticsEngineDataPoint[];
  /** Points written by each alarm invocation, in order. */
  perInvocation: number[];
}

export class WindowHarness {
  private readonly name = crypto.randomUUID();
  /** A fresh stub each time: one that saw the object reset stays broken. */
  get stub(): DurableObjectStub<AnalyticsWindow> {
    return env.ANALYTICS_WINDOW.getByName(this.name);
  }
  readonly windowMs = Number(env.ANALYTICS_WINDOW_MS);
  /** The consumer's bindings: its getByName("analytics") reaches this harness's object. */
  readonly env = {
    ANALYTICS_WINDOW: { getByName: () => this.stub } as unknown as DurableObjectNamespace<AnalyticsWindow>,
  };
  private now: number;

  /**
   * Takes over Date.now until the test's vi.restoreAllMocks(). Only points of containers whose id starts with
   * `prefix` are collected (container() makes such ids).
   */
  constructor(readonly prefix = `aw${crypto.randomUUID().slice(0, 8)}`) {
    this.now = (Math.floor(Date.now() / this.windowMs) + Math.ceil(3600_000 / this.windowMs)) * this.windowMs;
    vi.spyOn(Date, "now").mockImplementation(() => this.now);
  }

  /** A container id of this harness (`i` tells several apart). */
  container(i = 0): string {
    return `${this.prefix}-${i}`;
  }

  /** Moves the clock on by `ms`. */
  advance(ms: number): void {
    this.now += ms;
  }

  /** Partial rows the object holds. */
  partials(): Promise<number> {
    return runInDurableObject(
      this.stub,
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM partials").one().n,
    );
  }

  /** Closes the current window (the clock moves to the next one's start) and runs the alarms until none is left. */
  async flush(): Promise<Flushed> {
    this.now = (Math.floor(this.now / this.windowMs) + 1) * this.windowMs;
    const access = vi.spyOn(env.ACCESS_ANALYTICS, "writeDataPoint");
    const sessions = vi.spyOn(env.SESSION_ANALYTICS, "writeDataPoint");
    const ours = (spy: typeof access) =>
      spy.mock.calls.map(([point]) => point!).filter((p) => String(p.indexes?.[0]).startsWith(this.prefix));
    const perInvocation: number[] = [];
    try {
      let written = 0;
      while (await runDurableObjectAlarm(this.stub)) {
        if (perInvocation.length === 1000) throw new Error("the alarm keeps re-arming itself");
        const total = ours(access).length + ours(sessions).length;
        perInvocation.push(total - written);
        written = total;
      }
      return { access: ours(access), sessions: ours(sessions), perInvocation };
    } finally {
      access.mockRestore();
      sessions.mockRestore();
    }
  }
}
