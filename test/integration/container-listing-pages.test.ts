// GET /_edge/admin/containers, page by page: the registry lists containers in id order, `limit` to a page. The
// containers here sort after every other test's (ids starting "zzzzzz"), so the last pages are theirs alone.
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { operator, operatorPut } from "../support/operator";

interface Page {
  containers: { containerId: string }[];
  next: string | null;
}

async function page(query: string): Promise<Page> {
  const { response } = await operator(`/_edge/admin/containers?${query}`, { method: "GET" });
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
}

describe("GET /_edge/admin/containers", () => {
  it("fills each page up to limit, and the last page, even a full one, has no next", async () => {
    const prefix = `zzzzzz${crypto.randomUUID().slice(0, 8)}`;
    const ids = ["a", "b", "c", "d"].map((s) => `${prefix}-${s}`);
    for (const id of ids) expect((await operatorPut(edgeConfig({ containerId: id }))).response.status).toBe(202);

    const first = await page(`limit=2&cursor=${prefix}`);
    expect(first).toEqual({
      containers: [expect.objectContaining({ containerId: ids[0] }), expect.objectContaining({ containerId: ids[1] })],
      next: ids[1],
    });
    const last = await page(`limit=2&cursor=${first.next}`);
    expect(last).toEqual({
      containers: [expect.objectContaining({ containerId: ids[2] }), expect.objectContaining({ containerId: ids[3] })],
      next: null,
    });
  });

  it("after the last container is an empty page with no next", async () => {
    expect(await page(`cursor=${"z".repeat(64)}`)).toEqual({ containers: [], next: null });
  });
});
