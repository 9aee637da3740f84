// The edge Worker (CONTRACT.md "Shape"): live traffic on customer hosts. `/_edge/` is the control plane's prefix: on
// an operator host it goes to the control Worker over the service binding, on every other host it is 404 and never
// proxied.

import { isOperatorHost } from "./router/operator-hosts";
import { handleTraffic } from "./router/traffic";
import { EdgeError, errorResponse } from "./shared/errors";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_edge/")) {
      if (isOperatorHost(request, url, env.OPERATOR_HOSTS)) return env.CONTROL.fetch(request);
      return errorResponse(new EdgeError(404, "not_found", "no such endpoint"));
    }
    return handleTraffic(request, env, ctx, url);
  },
} satisfies ExportedHandler<Env>;
