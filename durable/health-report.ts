// ContainerState -> AlertState: a container that stays out of sync or keeps failing is reported, and so is its
// recovery. Only changes of health are sent (see ContainerState.reportIfChanged), so a healthy container's
// ordinary config changes cost the alerts nothing.
import type { ContainerHealth } from "../schemas/alerts";
import { alertStub } from "./alert-state";

/** False when the report could not be made (it is made again on the container's next change of state). */
export async function reportHealth(env: Pick<Env, "ALERT_STATE">, health: ContainerHealth): Promise<boolean> {
  try {
    await alertStub(env).reportContainerHealth(health);
    return true;
  } catch (error) {
    console.error(JSON.stringify({ event: "health_report_failed", containerId: health.containerId, error: String(error) }));
    return false;
  }
}
