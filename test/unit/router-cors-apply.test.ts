// applyCors on an upstream's headers: the upstream's own grant never survives, and Vary gains Origin exactly once.
import { describe, expect, it } from "vitest";
import { applyCors } from "../../workers/shared/cors";

const ORIGIN = "https://www.shop1.example";

function applied(upstream: Record<string, string>, origin: string | null = ORIGIN): Headers {
  const headers = new Headers(upstream);
  applyCors(headers, origin);
  return headers;
}

describe("the upstream's own grant", () => {
  it("is removed when it only allows credentials", () => {
    const headers = applied({ "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "X-Id" }, null);
    expect([...headers.keys()]).toEqual([]);
  });

  it("is replaced by the edge's for a trusted Origin", () => {
    const headers = applied({ "Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "9999" });
    expect(headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(headers.get("Access-Control-Max-Age")).toBeNull();
  });
});

describe("Vary", () => {
  it("is Origin when the upstream sent none", () => {
    expect(applied({}).get("Vary")).toBe("Origin");
  });

  it("keeps what the upstream listed and adds Origin", () => {
    expect(applied({ Vary: "Accept-Encoding" }).get("Vary")).toBe("Accept-Encoding, Origin");
  });

  it("is left alone when it already names Origin, in any case and position", () => {
    for (const vary of ["origin", "Accept-Encoding,Origin", "Origin, Accept-Encoding", "Accept-Encoding ,  ORIGIN  "]) {
      expect(applied({ Vary: vary }).get("Vary"), vary).toBe(vary.trim());
    }
  });

  it("adds Origin when a listed name only contains it", () => {
    expect(applied({ Vary: "X-Origin-Id" }).get("Vary")).toBe("X-Origin-Id, Origin");
    expect(applied({ Vary: "Originator" }).get("Vary")).toBe("Originator, Origin");
  });
});
