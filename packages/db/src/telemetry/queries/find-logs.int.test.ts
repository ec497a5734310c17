// Log search against a real Postgres, records inserted by SQL: filters, newest first, and keyset paging that
// neither skips nor repeats records sharing a timestamp, plus a cursor that was tampered with.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { findLogs, type FindLogsOptions } from "./find-logs.ts";
import { insertLogRows } from "./telemetry-rows.fixture.ts";

const now = new Date("2026-03-01T12:00:00.000Z");

describe("findLogs", () => {
  let test: TestDatabase;
  let ids: string[];
  beforeAll(async () => {
    test = await createTestDatabase();
    ids = await insertLogRows(test.db.pool, [
      { time: "2026-03-01T11:59:00.000001Z", service: "frontend", path: "/api/cart/42", responseCode: 200, bytesSent: 512 },
      { time: "2026-03-01T11:58:00Z", service: "frontend", path: "/api/checkout", responseCode: 503, responseFlags: "UF,URX" },
      { time: "2026-03-01T11:57:00Z", service: "order-service", path: "/orders", responseCode: 404 },
      { time: "2026-03-01T11:56:00Z", service: "order-service", path: "/orders", responseCode: 504, responseFlags: "UT" },
      { time: "2026-03-01T11:55:00Z", service: "frontend", path: "/", responseCode: null, responseFlags: "DC" },
      { time: "2026-03-01T09:00:00Z", service: "frontend", path: "/old", responseCode: 200 },
      // Three records of one microsecond, to page through ties.
      ...Array.from({ length: 3 }, () => ({ time: "2026-03-01T11:54:00.000007Z", service: "batch", path: "/tick" })),
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  const search = (options: Omit<FindLogsOptions, "pool">) => findLogs({ pool: test.db.pool, now, ...options });
  const paths = async (options: Omit<FindLogsOptions, "pool">) => (await search(options)).records.map((r) => r.path);

  it("returns the last hour's records newest first, with the access-log fields", async () => {
    const page = await search({});
    expect(page.records.map((r) => r.path)).toEqual(["/api/cart/42", "/api/checkout", "/orders", "/orders", "/", "/tick", "/tick", "/tick"]);
    expect(page.nextCursor).toBeNull();
    expect(page.records[0]).toMatchObject({ recordId: ids[0], service: "frontend", method: "GET", responseCode: 200, responseFlags: "-", bytesSent: 512 });
    expect(page.records[0]?.time).toEqual(new Date("2026-03-01T11:59:00.000Z"));
  });

  it("filters on service, status class, a response flag and a piece of the path", async () => {
    expect(await paths({ service: "order-service" })).toEqual(["/orders", "/orders"]);
    expect(await paths({ statusClass: "5xx" })).toEqual(["/api/checkout", "/orders"]);
    expect(await paths({ statusClass: "4xx" })).toEqual(["/orders"]);
    expect(await paths({ responseFlags: "URX" })).toEqual(["/api/checkout"]);
    expect(await paths({ responseFlags: "U" })).toEqual([]);
    expect(await paths({ pathContains: "cart" })).toEqual(["/api/cart/42"]);
    expect(await paths({ pathContains: "%" })).toEqual([]);
    expect(await paths({ from: new Date("2026-03-01T08:00:00Z"), to: new Date("2026-03-01T10:00:00Z") })).toEqual(["/old"]);
  });

  it("pages with the cursor without skipping or repeating records of the same microsecond", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await search({ limit: 3, cursor });
      seen.push(...page.records.map((r) => r.recordId));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    const all = (await search({})).records.map((r) => r.recordId);
    expect(seen).toEqual(all);
  });

  it("refuses a cursor it did not hand out", async () => {
    await expect(search({ cursor: "bm9wZQ" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^cursor is not one logs.search returned/) });
  });
});
