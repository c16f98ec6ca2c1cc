import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { handler } from "../../supabase/functions/metrics/handler.ts";
import { metricNames } from "../../supabase/functions/metrics/exposition.ts";
import { readSnapshot } from "../../supabase/functions/metrics/snapshot.ts";
import { promtool } from "../../scripts/monitoring/promtool.ts";
import {
  histogram,
  insertRows,
  type MetricRow,
  metricRow,
  readBounds,
  seededRandom,
} from "./monitoring_fixtures.ts";

const db = { sanitizeResources: false, sanitizeOps: false };
const token = "prometheus-scrape-token-0123456789abcdef";

/** Scrapes through the handler with the function's own snapshot reader, as service_role. */
async function scrape(sql: Sql): Promise<string> {
  const res = await handler(
    new Request("http://x/metrics", { headers: { authorization: `Bearer ${token}` } }),
    {
      config: () => ({ bearerToken: token }),
      readSnapshot: () =>
        sql.begin(async (tx) => {
          await tx`set local role service_role`;
          return await readSnapshot(tx as unknown as Sql);
        }),
    },
  );
  assertEquals(res.status, 200);
  return await res.text();
}

/** Sample value of `series` (exact name and label text) in an exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function flush(bounds: Awaited<ReturnType<typeof readBounds>>, seed: number): MetricRow[] {
  const random = seededRandom(seed);
  return (["legacy", "optimized"] as const).map((path) => {
    const latencies = Array.from({ length: 200 }, () => random() * (path === "legacy" ? 900 : 90));
    return metricRow(bounds, {
      path,
      isolate_id: `isolate-${seed % 3}`,
      requests: latencies.length,
      server_errors: Math.floor(random() * 4),
      client_errors: Math.floor(random() * 4),
      fallbacks: path === "optimized" ? 1 : 0,
      latency_sum_ms: latencies.reduce((a, b) => a + b, 0),
      latency_buckets: histogram(latencies, bounds.latencyMs),
      db_queries: path === "legacy" ? 600 : 9,
      db_batches: path === "legacy" ? 0 : 3,
      cache_l1_hits: 20,
      cache_l1_misses: 10,
      cache_l2_hits: 4,
      cache_l2_misses: 6,
      kms_requests: 5,
      kms_new_connections: 1,
      memory_rss_bytes: 40_000_000 + seed,
    });
  });
}

Deno.test(
  "metrics function: its exposition of the database passes promtool check metrics, matches rows",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const rows = [...flush(bounds, 1), ...flush(bounds, 2)];
      await insertRows(t.sql, rows.slice(0, 2));
      await insertRows(t.sql, rows.slice(2));
      const text = await scrape(t.sql);

      const lint = await promtool(["check", "metrics"], text);
      assertEquals(lint.code, 0, lint.stdout + lint.stderr);
      assertEquals((lint.stdout + lint.stderr).trim(), "", "promtool has no lint findings");

      for (const path of ["legacy", "optimized"]) {
        const mine = rows.filter((r) => r.path === path);
        const sum = (f: (r: MetricRow) => number) => mine.reduce((a, r) => a + f(r), 0);
        const labels = `{function="flight-search",path="${path}"}`;
        assertEquals(sample(text, `${metricNames.requests}${labels}`), sum((r) => r.requests));
        assertEquals(
          sample(
            text,
            `${metricNames.errors}{function="flight-search",path="${path}",class="server"}`,
          ),
          sum((r) => r.server_errors),
        );
        assertEquals(sample(text, `${metricNames.dbQueries}${labels}`), sum((r) => r.db_queries));
        assertEquals(
          sample(text, `${metricNames.cacheLookups}${labels}`),
          sum((r) =>
            r.cache_l1_hits + Math.max(r.cache_l1_misses, r.cache_l2_hits + r.cache_l2_misses)
          ),
        );
        assertEquals(
          sample(text, `${metricNames.requestDuration}_count${labels}`),
          sum((r) => r.requests),
        );
        const seconds = sample(text, `${metricNames.requestDuration}_sum${labels}`)!;
        assert(Math.abs(seconds - sum((r) => r.latency_sum_ms) / 1000) < 1e-9, "sum in seconds");
      }
      assertEquals(
        text.split("\n").filter((l) => l.startsWith(`${metricNames.isolateMemory}{`)).length,
        2,
        "one memory gauge per live isolate",
      );
    } finally {
      await t.drop();
    }
  },
);

Deno.test(
  "metrics function: counters only grow; deleting old detail rows takes nothing away",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const series = `${metricNames.requests}{function="flight-search",path="optimized"}`;
      await insertRows(t.sql, flush(bounds, 1));
      const first = sample(await scrape(t.sql), series)!;
      await insertRows(t.sql, flush(bounds, 2));
      const second = sample(await scrape(t.sql), series)!;
      assert(second > first, `${second} > ${first}`);
      await t.sql`delete from monitoring.function_metrics`;
      assertEquals(sample(await scrape(t.sql), series), second);
    } finally {
      await t.drop();
    }
  },
);
