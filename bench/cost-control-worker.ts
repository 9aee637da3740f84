// The control Worker exactly as deployed (workers/control.ts), with counters on its bindings for the cost model
// (bench/lib/binding-spies.ts), its Durable Object's bindings included. Bundled by bench/lib/miniflare-worker.mjs
// with wrangler.control.jsonc's configuration.
import { ContainerState as DeployedContainerState } from "../durable/container-state";
import control from "../workers/control";
import { spyEnv, spyWorker } from "./lib/binding-spies";

// Every other class the control Worker exports (the Durable Objects its config binds) as deployed; ContainerState
// below takes the place of the deployed one.
export * from "../workers/control";

export class ContainerState extends DeployedContainerState {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, spyEnv(env));
  }
}

export default spyWorker(control);
