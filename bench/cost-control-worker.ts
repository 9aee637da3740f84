// The control Worker exactly as deployed (workers/control.ts), with counters on its bindings for the cost model
// (bench/lib/binding-spies.ts), its Durable Object's bindings included. Bundled by bench/lib/miniflare-worker.mjs
// with wrangler.control.jsonc's configuration.
import { AnalyticsWindow as DeployedAnalyticsWindow } from "../durable/analytics-window";
import { ContainerState as DeployedContainerState } from "../durable/container-state";
import control from "../workers/control";
import { countAlarm, spyEnv, spyWorker } from "./lib/binding-spies";

// Every other class the control Worker exports (the Durable Objects its config binds) as deployed; ContainerState
// and AnalyticsWindow below take the place of the deployed ones.
export * from "../workers/control";

export class ContainerState extends DeployedContainerState {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, spyEnv(env));
  }
}

/** The aggregator writes Analytics Engine points from its alarms: its bindings and its alarm invocations counted. */
export class AnalyticsWindow extends DeployedAnalyticsWindow {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, spyEnv(env));
  }

  override async alarm(): Promise<void> {
    countAlarm("AnalyticsWindow");
    await super.alarm();
  }

  /**
   * Closes every window now and lets the alarms write them. Cost runs use day-long windows and close them when their
   * traffic is done, so that the points do not depend on where this machine's timing puts a window's end. The
   * deployed class keeps closeWindows private: the bench reaches it on purpose.
   */
  async closeForBench(): Promise<void> {
    (this as unknown as { closeWindows(current: number): void }).closeWindows(Number.MAX_SAFE_INTEGER);
    await this.ctx.storage.setAlarm(Date.now());
  }
}

const spied = spyWorker(control);

export default {
  ...spied,
  fetch(request, env, ctx) {
    // Not counted: the bench's own call, on the unspied binding.
    if (new URL(request.url).pathname === "/__cost/analytics-close" && request.method === "POST")
      return (env.ANALYTICS_WINDOW.getByName("analytics") as unknown as DurableObjectStub<AnalyticsWindow>)
        .closeForBench()
        .then(() => new Response(null, { status: 204 }));
    return spied.fetch?.(request, env, ctx) ?? new Response(null, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
