/**
 * payment-methods' metrics: each request (status, latency) and the KMS work it caused — HTTP
 * requests to KMS, new connections, data-key cache hits and misses — aggregated in the isolate by
 * `_shared/metrics.ts` and flushed to `monitoring.function_metrics` (path `none`) in the
 * background, as flight-search flushes its own. They feed `/metrics`, the dashboard's KMS panels,
 * the reuse alert and the rollout analysis's `kms_reuse_ratio`.
 *
 * The KMS client and the data-key cache count cumulatively for the isolate's life; this module
 * turns their counters into deltas after each request, so concurrent requests never count the
 * same KMS call twice (a call finishing during another request is counted by whichever request
 * ends next). Only counts leave the isolate: never a key, a card or an encryption context.
 *
 * @module
 */
import { z } from "zod";
import { type EnvSource, processEnv, readEnv } from "../_shared/env.ts";
import type { FunctionMetrics, KmsCounts } from "../_shared/metrics.ts";

/** The function's metrics rows are named after it. */
export const paymentMethodsFunctionName = "payment-methods";

const schema = z.object({
  METRICS_FLUSH_INTERVAL_MS: z.coerce.number().min(0).max(3_600_000).default(10_000),
});

/**
 * How often the isolate flushes its metrics: METRICS_FLUSH_INTERVAL_MS (default 10000; the local
 * stack sets 1000), as for flight-search.
 *
 * @throws {ConfigError} naming a malformed value.
 */
export function metricsFlushIntervalMs(source: EnvSource = processEnv()): number {
  return readEnv(schema, source).METRICS_FLUSH_INTERVAL_MS;
}

/** The cumulative counters read after each request. */
export interface KmsCounterSources {
  /** The KMS client's counters (`KmsStats.snapshot()`). */
  kms: () => { requests: number; newConnections: number };
  /** The data-key cache's counters (`DataKeyCache.stats()`). */
  dataKeys: () => { hits: number; misses: number };
}

const zero: KmsCounts = { requests: 0, newConnections: 0, dataKeyHits: 0, dataKeyMisses: 0 };

/** Records requests and the KMS work since the previous record into `metrics`. */
export class KmsMetricsRecorder {
  readonly #metrics: FunctionMetrics;
  readonly #sources: KmsCounterSources;
  #last: KmsCounts;

  /** Counting starts from the sources' current values. */
  constructor(metrics: FunctionMetrics, sources: KmsCounterSources) {
    this.#metrics = metrics;
    this.#sources = sources;
    this.#last = this.#read();
  }

  #read(): KmsCounts {
    const kms = this.#sources.kms();
    const keys = this.#sources.dataKeys();
    return {
      requests: kms.requests,
      newConnections: kms.newConnections,
      dataKeyHits: keys.hits,
      dataKeyMisses: keys.misses,
    };
  }

  /** Counts a finished request and the KMS work done since the last call. */
  record(status: number, latencyMs: number): void {
    this.#metrics.recordRequest("none", { status, latencyMs });
    const now = this.#read();
    const delta = { ...zero };
    for (const key of Object.keys(zero) as (keyof KmsCounts)[]) {
      // A counter never goes down; if a source was replaced, count from its new value.
      delta[key] = Math.max(0, now[key] - this.#last[key]);
    }
    this.#last = now;
    this.#metrics.recordKms("none", delta);
  }
}

/**
 * Wraps a request handler so every answered request is recorded (a thrown error counts as 500
 * and is thrown on).
 */
export function recordingKmsMetrics(
  handle: (req: Request) => Promise<Response>,
  recorder: KmsMetricsRecorder,
  now: () => number = () => performance.now(),
): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = now();
    let status = 500;
    try {
      const res = await handle(req);
      status = res.status;
      return res;
    } finally {
      recorder.record(status, now() - started);
    }
  };
}
