import { assertEquals } from "../../../tests/support/assert.ts";
import { FakeClock, settle } from "./fake_clock.ts";
import { latencyBoundsMs, type MetricRow } from "./metric_row.ts";
import { FunctionMetrics } from "./metrics.ts";

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
