import { assertEquals, assertRejects, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import { FakeClock } from "../_shared/fake_clock.ts";
import type { MetricRow } from "../_shared/metric_row.ts";
import { FunctionMetrics } from "../_shared/metrics.ts";
import { KmsMetricsRecorder, metricsFlushIntervalMs, recordingKmsMetrics } from "./kms_metrics.ts";

function setup() {
  const writes: MetricRow[][] = [];
  const metrics = new FunctionMetrics({
    functionName: "payment-methods",
    write: (rows) => {
      writes.push(structuredClone([...rows]));
      return Promise.resolve();
    },
    clock: new FakeClock(),
    waitUntil: () => {},
  });
  const kms = { requests: 5, newConnections: 1 };
  const keys = { hits: 10, misses: 2 };
  const recorder = new KmsMetricsRecorder(metrics, { kms: () => kms, dataKeys: () => keys });
  return { metrics, writes, kms, keys, recorder };
}

Deno.test("KmsMetricsRecorder.record() counts the request and the KMS work since the last record", async () => {
  const { metrics, writes, kms, keys, recorder } = setup();
  // What happened before the recorder existed is not counted.
  kms.requests += 2;
  kms.newConnections += 1;
  keys.misses += 2;
  recorder.record(201, 12);
  keys.hits += 3;
  recorder.record(200, 3);
  recorder.record(400, 1);
  await metrics.flush();
  assertEquals(writes.length, 1);
  const [row] = writes[0]!;
  assertEquals(row!.function_name, "payment-methods");
  assertEquals(row!.path, "none");
  assertEquals(
    [row!.requests, row!.client_errors, row!.kms_requests, row!.kms_new_connections],
    [3, 1, 2, 1],
  );
  assertEquals([row!.kms_data_key_hits, row!.kms_data_key_misses], [3, 2]);
});

Deno.test("recordingKmsMetrics() records every answer, a thrown error as 500, and rethrows", async () => {
  const { metrics, writes, recorder } = setup();
  let t = 0;
  const now = () => (t += 5);
  const ok = recordingKmsMetrics(
    () => Promise.resolve(new Response(null, { status: 204 })),
    recorder,
    now,
  );
  assertEquals((await ok(new Request("http://x/"))).status, 204);
  const broken = recordingKmsMetrics(() => Promise.reject(new Error("bug")), recorder, now);
  await assertRejects(() => broken(new Request("http://x/")), Error, "bug");
  await metrics.flush();
  const [row] = writes[0]!;
  assertEquals([row!.requests, row!.server_errors, row!.latency_sum_ms], [2, 1, 10]);
});

Deno.test("metricsFlushIntervalMs() reads METRICS_FLUSH_INTERVAL_MS, 10 s by default", () => {
  assertEquals(metricsFlushIntervalMs({}), 10_000);
  assertEquals(metricsFlushIntervalMs({ METRICS_FLUSH_INTERVAL_MS: "1000" }), 1000);
  assertThrows(() => metricsFlushIntervalMs({ METRICS_FLUSH_INTERVAL_MS: "soon" }), ConfigError);
});
