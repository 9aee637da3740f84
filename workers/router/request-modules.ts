// The optional request modules (CONTRACT.md EdgeConfig "Optional modules"), compiled once per config object so that
// a request with every module off pays one WeakMap lookup and never touches request.cf.
import { type EdgeConfig, moduleActive } from "../../schemas/edge-config";

export interface RequestModules {
  /** X-Appengine-Country/-Region/-City from request.cf. */
  geoHeaders: boolean;
  /** How the client IP reaches the upstream; null: as it is. */
  ipAnonymization: EdgeConfig["modules"]["ipAnonymization"]["mode"] | null;
  /** What a bot verdict does; null: no verdict is made. */
  botDetection: EdgeConfig["modules"]["botDetection"]["action"] | null;
}

// Cached configs are replaced, never mutated, when a new version arrives, so the object is a safe key.
const compiled = new WeakMap<EdgeConfig, RequestModules>();

export function requestModules(config: EdgeConfig): RequestModules {
  let modules = compiled.get(config);
  if (modules === undefined) {
    modules = {
      geoHeaders: moduleActive(config, "geoHeaders"),
      ipAnonymization: moduleActive(config, "ipAnonymization") ? config.modules.ipAnonymization.mode : null,
      botDetection: moduleActive(config, "botDetection") ? config.modules.botDetection.action : null,
    };
    compiled.set(config, modules);
  }
  return modules;
}
