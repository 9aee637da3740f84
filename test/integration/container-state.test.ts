// ContainerState's version bookkeeping, called the way the operator API and the webhook call it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { containerStub } from "../../durable/container-state";
import * as v from "valibot";
import type { UpsertMessage } from "../../schemas/config-message";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";

const upsert = (containerId: string, version: number): UpsertMessage => ({
  type: "upsert",
  containerId,
  version,
  config: edgeConfig({ containerId, version }),
  source: "webhook",
});

describe("recordDesired", () => {
  it("an older version recorded after a newer one (a retried webhook) never lowers desiredVersion", async () => {
    const stub = containerStub(env, "desired-order");
    expect(await stub.recordDesired(upsert("desired-order", 5))).toMatchObject({ status: "accepted" });
    expect(await stub.recordDesired(upsert("desired-order", 3))).toMatchObject({ status: "accepted" });
    expect(await statusOf("desired-order")).toMatchObject({ desiredVersion: 5, appliedVersion: 0 });
  });

  it("a version not newer than the applied one is stale and claims nothing", async () => {
    const stub = containerStub(env, "desired-stale");
    await stub.recordDesired(upsert("desired-stale", 2));
    await stub.apply("desired-stale", 2, v.parse(EdgeConfigSchema, edgeConfig({ containerId: "desired-stale", version: 2 })));
    const names = { infraHosts: [], publicHosts: ["stale-claim.example"], loaderToken: "lt_stale_claim" };
    expect(await stub.recordDesired(upsert("desired-stale", 2), names)).toEqual({ status: "stale", appliedVersion: 2 });
    // Had it claimed, this other container's claim would conflict.
    const other = containerStub(env, "desired-other");
    expect(await other.recordDesired(upsert("desired-other", 1), names)).toMatchObject({ status: "accepted" });
  });
});
