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
 * A counter family per function and path: its samples of one path's totals, each with the labels
 * it adds to `function` and `path` (a tier, a class) or none.
 */
interface PathCounter {
  name: string;
  help: string;
  samples: (t: PathTotals) => Array<[Labels, number]>;
}

/** The counters, in the order they are written. */
const pathCounters: PathCounter[] = [
  {
    name: metricNames.requests,
    help: "Requests served, by function and code path.",
    samples: (t) => [[{}, t.requests]],
  },
  {
    name: metricNames.errors,
    help: "Requests answered with an error: class server (5xx) or client (4xx).",
    samples: (t) => [[{ class: "server" }, t.serverErrors], [{ class: "client" }, t.clientErrors]],
  },
  {
    name: metricNames.fallbacks,
    help: "Requests the optimized path failed and the legacy path served.",
    samples: (t) => [[{}, t.fallbacks]],
  },
  {
    name: metricNames.dbQueries,
    help: "Database queries issued.",
    samples: (t) => [[{}, t.dbQueries]],
  },
  {
    name: metricNames.dbBatches,
    help: "Coalesced database batches dispatched.",
    samples: (t) => [[{}, t.dbBatches]],
  },
  {
    name: metricNames.cacheHits,
    help: "Cache look-ups answered, by tier (l1, l2).",
    samples: (t) => [[{ tier: "l1" }, t.cacheL1Hits], [{ tier: "l2" }, t.cacheL2Hits]],
  },
  {
    name: metricNames.cacheMisses,
    help: "Cache look-ups missed, by tier (l1, l2).",
    samples: (t) => [[{ tier: "l1" }, t.cacheL1Misses], [{ tier: "l2" }, t.cacheL2Misses]],
  },
  {
    name: metricNames.cacheLookups,
    help: "Cache look-ups across both tiers (each passes L1 first); hit ratio = hits / look-ups.",
    samples: (t) => [[{}, t.cacheLookups]],
  },
  {
    name: metricNames.kmsRequests,
    help: "Requests sent to KMS.",
    samples: (t) => [[{}, t.kmsRequests]],
  },
  {
    name: metricNames.kmsNewConnections,
    help: "KMS requests that had to open a new connection.",
    samples: (t) => [[{}, t.kmsNewConnections]],
  },
  {
    name: metricNames.kmsDataKeyHits,
    help: "Data keys the KMS data-key cache served without calling KMS.",
    samples: (t) => [[{}, t.kmsDataKeyHits]],
  },
  {
    name: metricNames.kmsDataKeyMisses,
    help: "Data keys the KMS data-key cache had to get from KMS.",
    samples: (t) => [[{}, t.kmsDataKeyMisses]],
  },
];

/** The breaker gauges per function and dependency, in the order they are written. */
const breakerGauges: Array<{ name: string; help: string; value: (b: BreakerSummary) => number }> = [
  {
    name: metricNames.breakerOpenIsolates,
    help: "Live isolates whose circuit breaker for the dependency is open.",
    value: (b) => b.openIsolates,
  },
  {
    name: metricNames.breakerIsolates,
    help: "Live isolates reporting a circuit breaker for the dependency.",
    value: (b) => b.isolates,
  },
  {
    name: metricNames.breakerOpens,
    help: "Times the live isolates' breakers opened (each since its isolate started).",
    value: (b) => b.opens,
  },
  {
    name: metricNames.breakerRejected,
    help: "Calls the live isolates' open breakers refused (each since its isolate started).",
    value: (b) => b.rejected,
  },
];

/** The latency histogram per function and path, in seconds. */
function writeLatencies(w: Writer, snapshot: MetricsSnapshot): void {
  const duration = metricNames.requestDuration;
  const bounds = snapshot.latencyBoundsMs;
  w.family(duration, "Server-side request latency.", "histogram");
  for (const t of snapshot.totals) {
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
}

/**
 * Renders `snapshot`. Families are always declared (HELP/TYPE) so dashboards and rules see the
 * names even before the first flush; samples appear once a function has flushed.
 *
 * @throws {RangeError} when a latency histogram does not have one bucket more than the bounds.
 */
export function renderExposition(snapshot: MetricsSnapshot): string {
  const w = new Writer();
  const { totals } = snapshot;
  for (const { name, help, samples } of pathCounters) {
    w.family(name, help, "counter");
    for (const t of totals) {
      for (const [labels, value] of samples(t)) {
        w.sample(name, { ...pathLabels(t), ...labels }, value);
      }
    }
  }

  writeLatencies(w, snapshot);

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

  for (const { name, help, value } of breakerGauges) {
    w.family(name, help, "gauge");
    for (const b of snapshot.breakers ?? []) {
      w.sample(name, { function: b.function, dependency: b.dependency }, value(b));
    }
  }
  return w.text();
}
