import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { testDatabase } from "../../../tests/support/database.ts";
import { startLatencyProxy } from "../../../scripts/local/latency_proxy.ts";
import { createPool } from "./db.ts";
import { FakeClock } from "./fake_clock.ts";
import {
  batchSizeBounds,
  bucketIndex,
  emptyMetricRow,
  latencyBoundsMs,
  mergeMetricRows,
  metricsWriter,
} from "./metric_row.ts";
import { FunctionMetrics } from "./metrics.ts";

const dbOpts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("bucketIndex() puts a value on a bound into that bound's bucket", () => {
  assertEquals(bucketIndex(latencyBoundsMs, 0), 0);
  assertEquals(bucketIndex(latencyBoundsMs, 1), 0);
  assertEquals(bucketIndex(latencyBoundsMs, 1.01), 1);
  assertEquals(bucketIndex(latencyBoundsMs, 10_000), latencyBoundsMs.length - 1);
  assertEquals(bucketIndex(latencyBoundsMs, 10_000.5), latencyBoundsMs.length);
  assertEquals(bucketIndex(batchSizeBounds, 50), 5);
  assertEquals(bucketIndex(batchSizeBounds, 51), 6);
});

Deno.test("mergeMetricRows() adds counters, histograms and route demand within its bound", () => {
  const key = {
    bucketStart: new Date(Date.UTC(2026, 10, 22, 12)),
    functionName: "flight-search",
    path: "optimized" as const,
    isolateId: "iso-1",
  };
  const into = emptyMetricRow(key);
  const from = emptyMetricRow(key);
  assertEquals([into.requests, into.route_demand, into.memory_rss_bytes], [0, null, null]);
  assertEquals(into.latency_buckets.length, latencyBoundsMs.length + 1);
  into.requests = 2;
  into.route_demand = { "JFK-ORD": 1 };
  from.requests = 3;
  from.latency_buckets[1] = 4;
  from.memory_rss_bytes = 100;
  from.route_demand = { "JFK-ORD": 2, "LAX-SFO": 5 };
  assertEquals(mergeMetricRows(into, from, 1), 5, "LAX-SFO does not fit");
  assertEquals([into.requests, into.latency_buckets[1], into.memory_rss_bytes], [5, 4, null]);
  assertEquals(into.route_demand, { "JFK-ORD": 3 });
});

Deno.test(
  "metrics histogram bounds equal monitoring.latency_bounds_ms() and batch_size_bounds()",
  dbOpts,
  async () => {
    const db = await testDatabase({ seeded: false });
    try {
      const [row] = await db.sql<{ latency: number[]; batch: number[] }[]>`
      select monitoring.latency_bounds_ms() as latency, monitoring.batch_size_bounds() as batch`;
      assertEquals(row?.latency.map(Number), [...latencyBoundsMs]);
      assertEquals(row?.batch.map(Number), [...batchSizeBounds]);
    } finally {
      await db.drop();
    }
  },
);

Deno.test("metricsWriter() stores every row with a single INSERT", dbOpts, async () => {
  const db = await testDatabase({ seeded: false });
  const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
  const sql = createPool({
    url: proxy.urlFor(db.url),
    max: 1,
    statementTimeoutMs: 5000,
    idleTimeoutS: 5,
    connectTimeoutS: 5,
    applicationName: "metrics-test",
  });
  try {
    await sql`select 1`;
    proxy.reset();
    const clock = new FakeClock();
    const metrics = new FunctionMetrics({
      functionName: "flight-search",
      write: metricsWriter(sql),
      clock,
      isolateId: "iso-test",
      flushIntervalMs: 3_600_000, // only the explicit flush below
    });
    for (const path of ["legacy", "optimized", "none"] as const) {
      for (let i = 0; i < 100; i++) metrics.recordRequest(path, { status: 200, latencyMs: i });
    }
    metrics.recordBatch("optimized", 7);
    await clock.tick(60_000);
    metrics.recordRequest("legacy", { status: 503, latencyMs: 20_000 });
    await metrics.flush();
    const stats = proxy.stats();
    assertEquals(stats.queries, 1, JSON.stringify(stats.byStatement));
    assert(
      Object.keys(stats.byStatement)[0]!.startsWith("insert into monitoring.function_metrics"),
    );

    const rows = await db.sql<
      {
        path: string;
        requests: number;
        server_errors: number;
        latency_buckets: number[];
        memory_rss_bytes: string | null;
      }[]
    >`select path, requests, server_errors, latency_buckets, memory_rss_bytes
        from monitoring.function_metrics
       where isolate_id = 'iso-test' order by bucket_start, path`;
    for (const row of rows) {
      assert(Number(row.memory_rss_bytes) > 0, "Deno.memoryUsage().rss by default");
    }
    assertEquals(rows.map((r) => [r.path, r.requests, r.server_errors]), [
      ["legacy", 100, 0],
      ["none", 100, 0],
      ["optimized", 100, 0],
      ["legacy", 1, 1],
    ]);
    assertEquals(rows[3]!.latency_buckets.at(-1), 1, "20 s lands in the overflow bucket");
  } finally {
    await sql.end({ timeout: 1 });
    await proxy.close();
    await db.drop();
  }
});
