/**
 * Counters of one KMS client: calls and latency by operation, HTTP requests (every attempt,
 * retries included) and new TCP connections. The reuse ratio — the share of requests sent over an
 * already open connection — is `1 - newConnections / requests`.
 *
 * Only counts and durations live here: never a payload, a key or an encryption context.
 *
 * @module
 */

/** A point-in-time copy of {@link KmsStats}; cumulative since the client was created. */
export interface KmsStatsSnapshot {
  /** Logical SDK calls by operation (one per `send()`, however many attempts it took). */
  calls: Record<string, number>;
  /** Calls that ended in an error, by operation. */
  errors: Record<string, number>;
  /** Sum of call durations in milliseconds (retries included), by operation. */
  latencyMsSum: Record<string, number>;
  /** HTTP requests sent (each attempt counts). */
  requests: number;
  /** TCP connections the client opened. */
  newConnections: number;
}

/** Mutable counters, one instance per client. */
export class KmsStats {
  #calls: Record<string, number> = {};
  #errors: Record<string, number> = {};
  #latency: Record<string, number> = {};
  #requests = 0;
  #newConnections = 0;

  /** Records one finished call of `operation` that took `ms`. */
  recordCall(operation: string, ms: number, ok: boolean): void {
    this.#calls[operation] = (this.#calls[operation] ?? 0) + 1;
    this.#latency[operation] = (this.#latency[operation] ?? 0) + Math.max(0, ms);
    if (!ok) this.#errors[operation] = (this.#errors[operation] ?? 0) + 1;
  }

  /** Records one HTTP request (attempt). */
  recordRequest(): void {
    this.#requests++;
  }

  /** Records one newly opened TCP connection. */
  recordNewConnection(): void {
    this.#newConnections++;
  }

  /** A copy of the counters. */
  snapshot(): KmsStatsSnapshot {
    return {
      calls: { ...this.#calls },
      errors: { ...this.#errors },
      latencyMsSum: { ...this.#latency },
      requests: this.#requests,
      newConnections: this.#newConnections,
    };
  }
}

/**
 * Share of requests that reused an open connection, in 0..1; `undefined` before any request.
 *
 * @example
 * ```ts
 * reuseRatio({ requests: 100, newConnections: 1 }); // 0.99
 * ```
 */
export function reuseRatio(
  stats: Pick<KmsStatsSnapshot, "requests" | "newConnections">,
): number | undefined {
  if (stats.requests === 0) return undefined;
  return Math.max(0, 1 - stats.newConnections / stats.requests);
}
