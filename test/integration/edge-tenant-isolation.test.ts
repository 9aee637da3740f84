// Tenant isolation seen from live traffic: container A is PUT through the operator API (the edge's operator host and
// service binding to the real control Worker, then the real config queue), every takeover of one of A's keys is
// refused (409 naming A, or 400 naming a host rule), and afterwards requests on each of A's names still reach A's upstream. The intruder's
// upstream is a port with nothing listening: a request it served would be a 502.
import { describe, expect, it } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { putConfig, statusOf, waitApplied } from "../support/pipeline";
import { callRouter, deadUrl, originUrl, routerRequest } from "../support/router-harness";
import { intruder, takeovers, victim } from "../support/takeovers";

async function expectServedByA(a: EdgeConfigInput): Promise<void> {
  const [publicHost, mount] = a.publicHosts! as [string, string];
  const names: [string, string][] = [
    [a.infraHosts![0]!, "/echo"],
    [publicHost, "/echo"],
    [mount.split("/")[0]!, "/metrics/echo"],
  ];
  for (const [host, path] of names) {
    const { response, records } = await callRouter(routerRequest(host, path, { headers: { Cookie: "FPID=visitor-of-a" } }));
    expect(response.status, `${host}${path}`).toBe(200);
    expect(((await response.json()) as { path: string }).path).toBe("/echo");
    expect(records[0]?.containerId).toBe(a.containerId);
  }
}

describe("takeovers against live traffic", () => {
  const a = victim(originUrl());
  for (const { name, takeover, rule } of takeovers(a)) {
    it(`${name}: ${rule ? `400 ${rule}` : "409 naming A"}, and A's traffic still reaches A`, async () => {
      if ((await statusOf(a.containerId)) === null) {
        expect((await putConfig(a)).status).toBe(202);
        await waitApplied(a.containerId, 1);
      }
      const res = await putConfig(intruder(takeover, 1, deadUrl()));
      if (rule) expect([res.status, await res.json()]).toMatchObject([400, { error: rule }]);
      else {
        expect(res.status).toBe(409);
        expect(await res.json()).toMatchObject({ error: "key_conflict", message: expect.stringContaining(`container ${a.containerId}`) });
      }
      await expectServedByA(a);
    });
  }
});
