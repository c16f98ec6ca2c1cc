import { assert, assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { testDatabase } from "../../../tests/support/database.ts";
import { startLatencyProxy } from "../../../scripts/local/latency_proxy.ts";
import { createPool } from "./db.ts";
import { FakeClock, settle } from "./fake_clock.ts";
import {
  batchSizeBounds,
  bucketIndex,
  FunctionMetrics,
  latencyBoundsMs,
  type MetricRow,
  metricsWriter,
} from "./metrics.ts";

const dbOpts = { sanitizeResources: false, sanitizeOps: false };

function recorder() {
  const writes: MetricRow[][] = [];
  let fail = false;
  return {
    writes,
    failNext: (value: boolean) => (fail = value),
    write: (rows: readonly MetricRow[]) => {
      if (fail) return Promise.reject(new Error("database unavailable"));
      writes.push(structuredClone([...rows]));
      return Promise.resolve();
    },
  };
}

Deno.test("bucketIndex() puts a value on a bound into that bound's bucket", () => {
  assertEquals(bucketIndex(latencyBoundsMs, 0), 0);
  assertEquals(bucketIndex(latencyBoundsMs, 1), 0);
  assertEquals(bucketIndex(latencyBoundsMs, 1.01), 1);
  assertEquals(bucketIndex(latencyBoundsMs, 10_000), latencyBoundsMs.length - 1);
  assertEquals(bucketIndex(latencyBoundsMs, 10_000.5), latencyBoundsMs.length);
  assertEquals(bucketIndex(batchSizeBounds, 50), 5);
  assertEquals(bucketIndex(batchSizeBounds, 51), 6);
});

Deno.test("FunctionMetrics aggregates many requests into one write per flush", async () => {
  const clock = new FakeClock();
  const { writes, write } = recorder();
  const kept: Promise<unknown>[] = [];
  const metrics = new FunctionMetrics({
    functionName: "flight-search",
    isolateId: "iso-1",
    write,
    clock,
    flushIntervalMs: 10_000,
    waitUntil: (p) => kept.push(p),
    memoryRss: () => 52_428_800,
  });
  for (let i = 0; i < 1000; i++) {
    metrics.recordRequest(i % 4 === 0 ? "legacy" : "optimized", {
      status: i % 100 === 0 ? 500 : i % 50 === 0 ? 400 : 200,
      latencyMs: i % 20,
      fallback: i % 250 === 1,
    });
  }
  metrics.recordQueries("legacy", 750);
  metrics.recordQueries("optimized", 12);
  metrics.recordBatch("optimized", 50);
  metrics.recordBatch("optimized", 1);
  metrics.recordCache("optimized", "l1", true);
  metrics.recordCache("optimized", "l2", true);
  metrics.recordCache("optimized", "miss", true);
  metrics.recordCache("optimized", "miss", false);
  assertEquals(writes.length, 0, "nothing written per request");
  assertEquals(kept.length, 1, "one background flush handed to waitUntil");

  await clock.tick(10_000);
  await Promise.all(kept);
  assertEquals(writes.length, 1);
  const rows = writes[0]!;
  assertEquals(rows.map((r) => r.path).sort(), ["legacy", "optimized"]);
  const legacy = rows.find((r) => r.path === "legacy")!;
  const optimized = rows.find((r) => r.path === "optimized")!;
  assertEquals(legacy.requests + optimized.requests, 1000);
  assertEquals(legacy.requests, 250);
  assertEquals(legacy.server_errors + optimized.server_errors, 10);
  assertEquals(legacy.client_errors + optimized.client_errors, 10);
  assertEquals(optimized.fallbacks, 4);
  assertEquals(legacy.latency_buckets.reduce((a, b) => a + b, 0), 250);
  assertEquals(legacy.latency_buckets.length, latencyBoundsMs.length + 1);
  assertEquals([legacy.db_queries, optimized.db_queries, optimized.db_batches], [750, 12, 2]);
  assertEquals(optimized.batch_size_buckets[0], 1);
  assertEquals(optimized.batch_size_buckets[5], 1);
  assertEquals(
    [
      optimized.cache_l1_hits,
      optimized.cache_l1_misses,
      optimized.cache_l2_hits,
      optimized.cache_l2_misses,
    ],
    [1, 3, 1, 1],
  );
  assertEquals(legacy.bucket_start.toISOString(), "2026-11-22T12:00:00.000Z");
  assertEquals([legacy.memory_rss_bytes, optimized.memory_rss_bytes], [52_428_800, 52_428_800]);
  assertEquals(metrics.pendingRows().length, 0);
});

Deno.test("FunctionMetrics keeps one row per minute and path", async () => {
  const clock = new FakeClock();
  const { writes, write } = recorder();
  const metrics = new FunctionMetrics({ functionName: "flight-search", write, clock });
  metrics.recordRequest("legacy", { status: 200, latencyMs: 3 });
  await clock.tick(59_000);
  metrics.recordRequest("legacy", { status: 200, latencyMs: 3 });
  await clock.tick(2_000); // crosses a minute boundary
  metrics.recordRequest("legacy", { status: 200, latencyMs: 3 });
  await metrics.flush();
  assertEquals(writes.length, 2, "the 10 s timer flushed once, then the explicit flush");
  const all = writes.flat();
  assertEquals(all.map((r) => [r.bucket_start.toISOString(), r.requests]), [
    ["2026-11-22T12:00:00.000Z", 1],
    ["2026-11-22T12:00:00.000Z", 1],
    ["2026-11-22T12:01:00.000Z", 1],
  ]);
});

Deno.test("FunctionMetrics writes the latest resident memory into every row of a flush", async () => {
  const clock = new FakeClock();
  const { writes, write, failNext } = recorder();
  let rss = 100;
  const metrics = new FunctionMetrics({
    functionName: "flight-search",
    write,
    clock,
    memoryRss: () => rss,
    onError: () => {},
  });
  metrics.recordRequest("legacy", { status: 200, latencyMs: 1 });
  assertEquals(metrics.pendingRows()[0]!.memory_rss_bytes, null, "read at flush time only");
  failNext(true);
  await metrics.flush();
  failNext(false);
  rss = 250;
  metrics.recordRequest("legacy", { status: 200, latencyMs: 1 });
  metrics.recordRequest("optimized", { status: 200, latencyMs: 1 });
  await metrics.flush();
  assertEquals(writes[0]!.map((r) => [r.path, r.requests, r.memory_rss_bytes]), [
    ["legacy", 2, 250],
    ["optimized", 1, 250],
  ]);
  rss = Number.NaN;
  metrics.recordRequest("legacy", { status: 200, latencyMs: 1 });
  await metrics.flush();
  assertEquals(writes[1]![0]!.memory_rss_bytes, null, "a value the runtime cannot give is null");
});

Deno.test("FunctionMetrics counts searches per route in the row, bounded per row", async () => {
  const clock = new FakeClock();
  const { writes, write, failNext } = recorder();
  const metrics = new FunctionMetrics({
    functionName: "flight-search",
    write,
    clock,
    maxRoutesPerRow: 2,
    onError: () => {},
  });
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("optimized", "LAX", "SFO");
  metrics.recordRoute("optimized", "BOS", "MIA"); // a third route: dropped
  metrics.recordRoute("legacy", "BOS", "MIA");
  assertThrows(() => metrics.recordRoute("legacy", "jfk", "ORD"), RangeError, "IATA");
  failNext(true);
  await metrics.flush();
  failNext(false);
  metrics.recordRoute("optimized", "JFK", "ORD");
  metrics.recordRoute("legacy", "BOS", "MIA");
  await metrics.flush();
  const byPath = Object.fromEntries(writes[0]!.map((r) => [r.path, r.route_demand]));
  assertEquals(byPath, {
    optimized: { "JFK-ORD": 3, "LAX-SFO": 1 },
    legacy: { "BOS-MIA": 2 },
  });
  assertEquals(metrics.stats().routesDropped, 1);
  metrics.recordRequest("none", { status: 200, latencyMs: 1 });
  await metrics.flush();
  assertEquals(writes[1]![0]!.route_demand, null, "no search, no demand");
});

Deno.test("FunctionMetrics keeps rows after a failed flush and merges them into the next", async () => {
  const clock = new FakeClock();
  const { writes, write, failNext } = recorder();
  const errors: unknown[] = [];
  const metrics = new FunctionMetrics({
    functionName: "flight-search",
    write,
    clock,
    flushIntervalMs: 1000,
    onError: (e) => errors.push(e),
  });
  failNext(true);
  metrics.recordRequest("optimized", { status: 200, latencyMs: 4 });
  await clock.tick(1000);
  assertEquals([writes.length, errors.length, metrics.stats().failedFlushes], [0, 1, 1]);
  metrics.recordRequest("optimized", { status: 200, latencyMs: 4 });
  failNext(false);
  await clock.tick(1000); // the retry scheduled by the failure
  assertEquals(writes.length, 1);
  assertEquals(writes[0]!.map((r) => r.requests), [2]);
  assertEquals(metrics.stats().rowsWritten, 1);
});

Deno.test("FunctionMetrics bounds rows while flushes fail, dropping the oldest", async () => {
  const clock = new FakeClock();
  const { write, failNext } = recorder();
  const metrics = new FunctionMetrics({
    functionName: "flight-search",
    write,
    clock,
    maxRows: 3,
    flushIntervalMs: 60_000,
    onError: () => {},
  });
  failNext(true);
  for (let minute = 0; minute < 5; minute++) {
    metrics.recordRequest("legacy", { status: 200, latencyMs: 1 });
    await clock.tick(60_000);
  }
  await settle();
  const rows = metrics.pendingRows();
  assertEquals(rows.length, 3);
  assertEquals(metrics.stats().rowsDropped, 2);
  assertEquals(rows[0]!.bucket_start.toISOString(), "2026-11-22T12:02:00.000Z");
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
