// Which hosts may reach the operator endpoints (CONTRACT.md "Shape"): the comma-separated var OPERATOR_HOSTS. The
// local run lists localhost and 127.0.0.1, which match on any port.
import { normalizeHost, requestHost } from "./host";

export function isOperatorHost(request: Request, url: URL, operatorHosts: string): boolean {
  const host = normalizeHost(requestHost(request, url));
  if (host === null) return false;
  return operatorHosts.split(",").some((entry) => entry.trim().toLowerCase() === host);
}
