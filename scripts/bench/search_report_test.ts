import { assertEquals } from "../../tests/support/assert.ts";
import { queriesPerRequest, searchReportSchema } from "./search_report.ts";

Deno.test("queriesPerRequest() divides the mean queries per wave by the wave's requests", () => {
  assertEquals(queriesPerRequest({ level: 10, queriesPerWave: { mean: 3 } }), 0.3);
  assertEquals(queriesPerRequest({ level: 1, queriesPerWave: { mean: 3 } }), 3);
});

Deno.test("searchReportSchema rejects the shape the report used to expect", () => {
  const old = {
    startedAt: "2026-11-22T11:00:00Z",
    results: [{ contender: "legacy", concurrency: 1, requests: 1, queries: 3 }],
  };
  assertEquals(searchReportSchema.safeParse(old).error?.issues[0]?.path, ["meta"]);
});
