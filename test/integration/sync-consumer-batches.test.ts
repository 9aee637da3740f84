// What a batch of config messages does beyond applying its newest version: a batch without repair messages runs no
// repair, so live traffic's KV-miss reports (ContainerState.kvMiss, rate-limited per container) are not used up.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { containerStub } from "../../durable/container-state";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";

describe("a batch of upserts", () => {
  it("runs no repair: a KV miss reported right after the apply still queues one", async () => {
    const id = `batch-no-repair-${crypto.randomUUID().slice(0, 8)}`;
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);

    expect(await containerStub(env, id).kvMiss(id)).toBe(true);
  });
});
