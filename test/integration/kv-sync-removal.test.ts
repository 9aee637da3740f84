// What a removal costs in KV when KV already lost one of the container's keys: only the keys KV still holds are
// deleted (KV bills every write and delete). Real queue handler; deletes counted by spies on the Durable Object's
// own bindings (it is the only writer).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";

describe("a removal", () => {
  it("deletes only the keys KV still holds", async () => {
    const id = `kv-lost-${crypto.randomUUID().slice(0, 8)}`;
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
    await env.EDGE_CONFIG.delete(id);
    await env.SITE_REGISTRY.delete(`ss.${id}.example`);
    const spies = await spyOnKvWrites(id);

    const result = await deliver(QUEUES.config, [{ type: "delete", containerId: id, version: 2 }]);

    expect(result.explicitAcks).toHaveLength(1);
    const deleted = spies.flatMap((s) => s.delete.mock.calls.map(([key]) => `${s.map}:${key}`));
    expect(deleted.sort()).toEqual([`LOADER_TOKEN_MAP:lt_${id}_token`, `ROUTING_MAP:${id}.edge.example`]);
    expect(await env.ROUTING_MAP.get(`${id}.edge.example`)).toBeNull();
  });
});
