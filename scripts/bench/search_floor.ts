/**
 * The no-database floor of `bench:search`: what a wave of N searches costs when no search reaches
 * the database — the optimized path's isolate answering every request from its in-isolate result
 * cache. What is left is the client's fetches, one isolate's HTTP, JWT checks, validation and
 * JSON on the same machine: the part of a search's latency no database work can remove. Reading
 * the optimized path's p95 against it says how much of the p95 the wave's statement and its one
 * round trip are.
 *
 * @module
 */
import { z } from "zod";
import { percentile } from "./percentile.ts";

const ms = z.number().nonnegative();

/** zod schema of the floor at one level. */
export const searchFloorResultSchema = z.object({
  /** Concurrent requests per wave. */
  level: z.number().int().positive(),
  waves: z.number().int().positive(),
  /** Requests measured (the warm-up waves that fill the cache excluded). */
  requests: z.number().int().positive(),
  /** Requests not answered 200 from the in-isolate cache (`x-cache: l1`). */
  misses: z.number().int().nonnegative(),
  /** Client-observed: fetch start to last byte of the body. */
  latencyMs: z.object({ p50: ms, p95: ms, p99: ms }),
  /** The function's own duration (server-timing). */
  serverLatencyMs: z.object({ p50: ms.nullable(), p95: ms.nullable() }),
});

/** The floor at one level. */
export type SearchFloorResult = z.output<typeof searchFloorResultSchema>;

/** What {@link measureFloor} needs. */
export interface FloorRun {
  /** Port of an optimized-path isolate with the result cache on. */
  port: number;
  level: number;
  waves: number;
  /** Query strings of the searches; wave w sends searches[w·level ..] as the contenders do. */
  searches: readonly string[];
  headers: Record<string, string>;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The longest one floor request may take (the function's budget is 3 s). */
const requestTimeoutMs = 10_000;

/**
 * Runs `waves` waves of `level` concurrent searches against a cache-on isolate, after two waves
 * per distinct search set that fill its cache, and summarises the latencies.
 */
export async function measureFloor(run: FloorRun): Promise<SearchFloorResult> {
  const { port, level, searches, headers } = run;
  const send = async (offset: number) =>
    await Promise.all(Array.from({ length: level }, async (_, i) => {
      const query = searches[(offset + i) % searches.length];
      const t0 = performance.now();
      // The function answers within its own budget; this only keeps a wedged one from hanging.
      const res = await fetch(`http://127.0.0.1:${port}/flight-search?${query}`, {
        headers,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      await res.arrayBuffer();
      const server = /total;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
      return {
        ms: performance.now() - t0,
        serverMs: Number(server?.[1] ?? NaN),
        hit: res.status === 200 && res.headers.get("x-cache") === "l1",
      };
    }));
  // Every search the measured waves send, cached first (a wave of distinct searches fills it).
  const distinct = Math.min(searches.length, run.waves * level);
  for (let offset = 0; offset < distinct; offset += level) await send(offset);
  for (let w = 0; w < 2; w++) await send(w * level);
  const latencies: number[] = [];
  const server: number[] = [];
  let misses = 0;
  for (let w = 0; w < run.waves; w++) {
    for (const o of await send(w * level)) {
      latencies.push(o.ms);
      if (Number.isFinite(o.serverMs)) server.push(o.serverMs);
      if (!o.hit) misses++;
    }
  }
  latencies.sort((a, b) => a - b);
  server.sort((a, b) => a - b);
  const serverAt = (p: number) => (server.length ? round(percentile(server, p)) : null);
  return {
    level,
    waves: run.waves,
    requests: latencies.length,
    misses,
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
    },
    serverLatencyMs: { p50: serverAt(50), p95: serverAt(95) },
  };
}
