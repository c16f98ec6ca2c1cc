/**
 * Prometheus text exposition (format 0.0.4) of a {@link MetricsSnapshot}.
 *
 * Names follow Prometheus conventions: base units (seconds, bytes), `_total` on counters. The
 * alert rules (scripts/monitoring/alert_rules.ts) are written against {@link metricNames}, so a
 * rename here shows up there as a type error, not as a silent rule that never fires.
 *
 * @module
 */
import type { BreakerSummary, MetricsSnapshot, PathTotals } from "./snapshot.ts";

/** Content type of the text exposition format. */
export const expositionContentType = "text/plain; version=0.0.4; charset=utf-8";

/** Every metric family this endpoint exposes. */
export const metricNames = {
  requests: "parker_function_requests_total",
  errors: "parker_function_errors_total",
  fallbacks: "parker_function_fallbacks_total",
  dbQueries: "parker_function_db_queries_total",
  dbBatches: "parker_function_db_batches_total",
  cacheHits: "parker_function_cache_hits_total",
  cacheMisses: "parker_function_cache_misses_total",
  cacheLookups: "parker_function_cache_lookups_total",
  kmsRequests: "parker_function_kms_requests_total",
  kmsNewConnections: "parker_function_kms_new_connections_total",
  kmsDataKeyHits: "parker_function_kms_data_key_hits_total",
  kmsDataKeyMisses: "parker_function_kms_data_key_misses_total",
  requestDuration: "parker_function_request_duration_seconds",
  lastFlush: "parker_function_last_flush_timestamp_seconds",
  isolateMemory: "parker_isolate_resident_memory_bytes",
  breakerOpenIsolates: "parker_circuit_breaker_open_isolates",
  breakerIsolates: "parker_circuit_breaker_isolates",
  breakerOpens: "parker_circuit_breaker_opens",
  breakerRejected: "parker_circuit_breaker_rejected",
} as const;

type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and line feed, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

/** A sample value: Go's ParseFloat reads JS's shortest round-trip form, plus ±Inf and NaN. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

class Writer {
  #lines: string[] = [];

  family(name: string, help: string, type: "counter" | "gauge" | "histogram"): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Labels, value: number): void {
    this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  }

  text(): string {
    return this.#lines.length > 0 ? `${this.#lines.join("\n")}\n` : "";
  }
}

const pathLabels = (t: PathTotals): Labels => ({ function: t.function, path: t.path });

/**
 * Renders `snapshot`. Families are always declared (HELP/TYPE) so dashboards and rules see the
 * names even before the first flush; samples appear once a function has flushed.
 *
 * @throws {RangeError} when a latency histogram does not have one bucket more than the bounds.
 */
export function renderExposition(snapshot: MetricsSnapshot): string {
  const w = new Writer();
  const { totals } = snapshot;
  const counter = (
    name: string,
    help: string,
    value: (t: PathTotals) => number,
  ) => {
    w.family(name, help, "counter");
    for (const t of totals) w.sample(name, pathLabels(t), value(t));
  };

  counter(metricNames.requests, "Requests served, by function and code path.", (t) => t.requests);

  w.family(
    metricNames.errors,
    "Requests answered with an error: class server (5xx) or client (4xx).",
    "counter",
  );
  for (const t of totals) {
    w.sample(metricNames.errors, { ...pathLabels(t), class: "server" }, t.serverErrors);
    w.sample(metricNames.errors, { ...pathLabels(t), class: "client" }, t.clientErrors);
  }

  counter(
    metricNames.fallbacks,
    "Requests the optimized path failed and the legacy path served.",
    (t) => t.fallbacks,
  );
  counter(metricNames.dbQueries, "Database queries issued.", (t) => t.dbQueries);
  counter(metricNames.dbBatches, "Coalesced database batches dispatched.", (t) => t.dbBatches);

  w.family(metricNames.cacheHits, "Cache look-ups answered, by tier (l1, l2).", "counter");
  for (const t of totals) {
    w.sample(metricNames.cacheHits, { ...pathLabels(t), tier: "l1" }, t.cacheL1Hits);
    w.sample(metricNames.cacheHits, { ...pathLabels(t), tier: "l2" }, t.cacheL2Hits);
  }
  w.family(metricNames.cacheMisses, "Cache look-ups missed, by tier (l1, l2).", "counter");
  for (const t of totals) {
    w.sample(metricNames.cacheMisses, { ...pathLabels(t), tier: "l1" }, t.cacheL1Misses);
    w.sample(metricNames.cacheMisses, { ...pathLabels(t), tier: "l2" }, t.cacheL2Misses);
  }
  counter(
    metricNames.cacheLookups,
    "Cache look-ups across both tiers (each passes L1 first); hit ratio = hits / look-ups.",
    (t) => t.cacheLookups,
  );

  counter(metricNames.kmsRequests, "Requests sent to KMS.", (t) => t.kmsRequests);
  counter(
    metricNames.kmsNewConnections,
    "KMS requests that had to open a new connection.",
    (t) => t.kmsNewConnections,
  );
  counter(
    metricNames.kmsDataKeyHits,
    "Data keys the KMS data-key cache served without calling KMS.",
    (t) => t.kmsDataKeyHits,
  );
  counter(
    metricNames.kmsDataKeyMisses,
    "Data keys the KMS data-key cache had to get from KMS.",
    (t) => t.kmsDataKeyMisses,
  );

  const duration = metricNames.requestDuration;
  const bounds = snapshot.latencyBoundsMs;
  w.family(duration, "Server-side request latency.", "histogram");
  for (const t of totals) {
    if (t.latencyBuckets.length !== bounds.length + 1) {
      throw new RangeError(
        `latency histogram of ${t.function}/${t.path} has ${t.latencyBuckets.length} buckets, ` +
          `expected ${bounds.length + 1}`,
      );
    }
    let cumulative = 0;
    bounds.forEach((boundMs, i) => {
      cumulative += t.latencyBuckets[i] ?? 0;
      w.sample(
        `${duration}_bucket`,
        { ...pathLabels(t), le: formatValue(boundMs / 1000) },
        cumulative,
      );
    });
    cumulative += t.latencyBuckets[bounds.length] ?? 0;
    w.sample(`${duration}_bucket`, { ...pathLabels(t), le: "+Inf" }, cumulative);
    w.sample(`${duration}_sum`, pathLabels(t), t.latencySumMs / 1000);
    w.sample(`${duration}_count`, pathLabels(t), cumulative);
  }

  w.family(metricNames.lastFlush, "When the function last flushed metrics (Unix time).", "gauge");
  for (const t of totals) {
    w.sample(metricNames.lastFlush, pathLabels(t), t.lastFlushedAt.getTime() / 1000);
  }

  w.family(
    metricNames.isolateMemory,
    "Resident memory of each isolate that flushed in the last 5 minutes.",
    "gauge",
  );
  for (const m of snapshot.memory) {
    w.sample(metricNames.isolateMemory, { function: m.function, isolate: m.isolate }, m.rssBytes);
  }

  const breakers = snapshot.breakers ?? [];
  const breakerGauge = (name: string, help: string, value: (b: BreakerSummary) => number) => {
    w.family(name, help, "gauge");
    for (const b of breakers) {
      w.sample(name, { function: b.function, dependency: b.dependency }, value(b));
    }
  };
  breakerGauge(
    metricNames.breakerOpenIsolates,
    "Live isolates whose circuit breaker for the dependency is open.",
    (b) => b.openIsolates,
  );
  breakerGauge(
    metricNames.breakerIsolates,
    "Live isolates reporting a circuit breaker for the dependency.",
    (b) => b.isolates,
  );
  breakerGauge(
    metricNames.breakerOpens,
    "Times the live isolates' breakers opened (each since its isolate started).",
    (b) => b.opens,
  );
  breakerGauge(
    metricNames.breakerRejected,
    "Calls the live isolates' open breakers refused (each since its isolate started).",
    (b) => b.rejected,
  );
  return w.text();
}
