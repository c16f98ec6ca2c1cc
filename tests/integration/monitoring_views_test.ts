import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import {
  bucketIndex,
  exactQuantile,
  histogram,
  insertRows,
  type MetricRow,
  metricRow,
  minuteOf,
  readBounds,
  seededRandom,
  split,
} from "./monitoring_fixtures.ts";

const db = { sanitizeResources: false, sanitizeOps: false };

const close = (actual: number | null, expected: number, what: string) =>
  assert(
    actual !== null && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: expected ${expected}, got ${actual}`,
  );

function normal(random: () => number): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const distributions: Record<string, (random: () => number) => number> = {
  lognormal: (r) => Math.exp(Math.log(60) + 0.8 * normal(r)),
  uniform: (r) => r() * 1500,
  bimodal: (r) => (r() < 0.93 ? 5 + r() * 15 : 400 + r() * 2600),
  pareto_tail: (r) => 20 / Math.pow(1 - r(), 1 / 0.9),
};

Deno.test(
  "monitoring.minute_metrics p95 (and p50, p99) is within one bucket of the exact quantile",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const minute = minuteOf(new Date());
      const random = seededRandom(20261122);
      const exact = new Map<string, number[]>();
      for (const [name, draw] of Object.entries(distributions)) {
        const latencies = Array.from({ length: 20_000 }, () => draw(random));
        // Spread the samples over isolates and flushes as real traffic would be.
        const groups: number[][] = Array.from({ length: 6 }, () => []);
        for (const v of latencies) groups[Math.floor(random() * groups.length)]!.push(v);
        for (const [i, group] of groups.entries()) {
          await insertRows(t.sql, [metricRow(bounds, {
            bucket_start: minute,
            function_name: `dist-${name.replace("_", "-")}`,
            isolate_id: `isolate-${i % 3}`,
            requests: group.length,
            latency_sum_ms: group.reduce((a, b) => a + b, 0),
            latency_buckets: histogram(group, bounds.latencyMs),
          })]);
        }
        exact.set(name, [0.5, 0.95, 0.99].map((q) => exactQuantile(latencies, q)));
      }
      const rows = await t.sql`
        select function_name, latency_p50_ms, latency_p95_ms, latency_p99_ms
        from monitoring.minute_metrics where bucket_start = ${minute}`;
      assertEquals(rows.length, Object.keys(distributions).length);
      for (const [name, [p50, p95, p99]] of exact) {
        const row = rows.find((r) => r.function_name === `dist-${name.replace("_", "-")}`)!;
        for (
          const [what, estimate, truth] of [
            ["p50", row.latency_p50_ms, p50!],
            ["p95", row.latency_p95_ms, p95!],
            ["p99", row.latency_p99_ms, p99!],
          ] as const
        ) {
          assert(Number.isFinite(estimate), `${name} ${what} is ${estimate}`);
          const distance = Math.abs(
            bucketIndex(estimate, bounds.latencyMs) - bucketIndex(truth, bounds.latencyMs),
          );
          assert(
            distance <= 1,
            `${name} ${what}: estimate ${estimate} ms is ${distance} buckets from exact ${truth} ms`,
          );
        }
      }
    } finally {
      await t.drop();
    }
  },
);

Deno.test("monitoring.histogram_quantile() follows Prometheus at the edges", db, async () => {
  const t = await testDatabase({ seeded: false });
  try {
    const q = async (quantile: number, counts: number[], bounds = [10, 20, 40]) => {
      const [row] = await t.sql`
        select monitoring.histogram_quantile(
          ${quantile}::float8, ${bounds}::float8[], ${counts}::bigint[]) as v`;
      return row!.v as number | null;
    };
    // Linear inside the bucket holding rank q * total; the first bucket starts at 0.
    close(await q(0.5, [0, 10, 0, 0]), 10 + (20 - 10) * 0.5, "middle of the second bucket");
    close(await q(0.25, [4, 0, 0, 0]), 10 * 0.25, "first bucket starts at 0");
    close(await q(0.5, [5, 5, 0, 0]), 10, "a rank on a boundary answers that bucket's bound");
    // A rank in the overflow bucket answers the largest finite bound.
    close(await q(0.99, [1, 0, 0, 9]), 40, "overflow bucket");
    assertEquals(await q(0.5, [0, 0, 0, 0]), null, "no observations");
    assertEquals(await q(-0.1, [1, 0, 0, 0]), -Infinity);
    assertEquals(await q(1.1, [1, 0, 0, 0]), Infinity);
    await assertRejects(() => q(0.5, [1, 2]), Error, "expected bounds + 1");
  } finally {
    await t.drop();
  }
});

Deno.test(
  "monitoring.minute_metrics sums isolates and flushes and derives its rates and ratios",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const random = seededRandom(7);
      const minute = minuteOf(new Date(Date.now() - 5 * 60_000));
      const int = (max: number) => Math.floor(random() * max);
      const rows: MetricRow[] = [];
      for (const path of ["legacy", "optimized"] as const) {
        for (let i = 0; i < 5; i++) {
          const requests = 50 + int(100);
          const l1Hits = int(60);
          const l1Misses = int(60);
          const l2Hits = int(l1Misses + 1);
          rows.push(metricRow(bounds, {
            bucket_start: minute,
            path,
            isolate_id: `isolate-${i % 2}`,
            requests,
            server_errors: int(5),
            client_errors: int(5),
            fallbacks: path === "optimized" ? int(3) : 0,
            latency_sum_ms: requests * 40,
            latency_buckets: split(requests, bounds.latencyMs.length + 1, random),
            db_queries: path === "legacy" ? 3 * requests : 3 * (1 + int(4)),
            db_batches: path === "legacy" ? 0 : 1 + int(4),
            batch_size_buckets: split(int(20), bounds.batchSize.length + 1, random),
            cache_l1_hits: l1Hits,
            cache_l1_misses: l1Misses,
            cache_l2_hits: l2Hits,
            cache_l2_misses: l1Misses - l2Hits,
            kms_requests: 10 + int(10),
            kms_new_connections: int(3),
          }));
        }
      }
      // Two flushes: the view must not care how rows were grouped into statements.
      await insertRows(t.sql, rows.slice(0, 4));
      await insertRows(t.sql, rows.slice(4));

      const view = await t.sql`
        select * from monitoring.minute_metrics where bucket_start = ${minute} order by path`;
      assertEquals(view.map((r) => r.path), ["legacy", "optimized"]);
      for (const v of view) {
        const mine = rows.filter((r) => r.path === v.path);
        const sum = (f: (r: MetricRow) => number) => mine.reduce((a, r) => a + f(r), 0);
        const requests = sum((r) => r.requests);
        assertEquals(Number(v.requests), requests);
        assertEquals(v.isolates, 2);
        assertEquals(Number(v.fallbacks), sum((r) => r.fallbacks));
        close(v.request_rate_per_s, requests / 60, "request rate");
        close(v.error_rate, sum((r) => r.server_errors) / requests, "error rate");
        close(v.latency_avg_ms, sum((r) => r.latency_sum_ms) / requests, "average latency");
        close(v.queries_per_request, sum((r) => r.db_queries) / requests, "queries/request");
        close(v.db_query_rate_per_s, sum((r) => r.db_queries) / 60, "query rate");
        const l1h = sum((r) => r.cache_l1_hits);
        const l1m = sum((r) => r.cache_l1_misses);
        const l2h = sum((r) => r.cache_l2_hits);
        const l2m = sum((r) => r.cache_l2_misses);
        close(v.cache_l1_hit_ratio, l1h / (l1h + l1m), "L1 hit ratio");
        close(v.cache_l2_hit_ratio, l2h / (l2h + l2m), "L2 hit ratio");
        close(v.cache_hit_ratio, (l1h + l2h) / (l1h + l1m), "overall hit ratio");
        close(
          v.kms_reuse_ratio,
          1 - sum((r) => r.kms_new_connections) / sum((r) => r.kms_requests),
          "KMS reuse ratio",
        );
        const buckets = (v.latency_buckets as string[]).map(Number);
        assertEquals(
          buckets,
          bounds.latencyMs.concat(0).map((_, i) => sum((r) => r.latency_buckets[i]!)),
        );
        const batches = await t.sql`
          select bucket_index, le, bucket_label, batches from monitoring.minute_batch_sizes
          where bucket_start = ${minute} and path = ${v.path} order by bucket_index`;
        assertEquals(batches.length, bounds.batchSize.length + 1);
        assertEquals(
          batches.map((b) => Number(b.batches)),
          bounds.batchSize.concat(0).map((_, i) => sum((r) => r.batch_size_buckets[i]!)),
        );
        assertEquals(batches.at(-1)!.le, Infinity);
        assertEquals(batches.at(-1)!.bucket_label, `> ${bounds.batchSize.at(-1)}`);
        assertEquals(batches[0]!.bucket_label, `<= ${bounds.batchSize[0]}`);
      }
    } finally {
      await t.drop();
    }
  },
);

Deno.test(
  "monitoring.minute_metrics leaves ratios null where nothing was counted",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const minute = minuteOf(new Date());
      await insertRows(t.sql, [metricRow(bounds, { bucket_start: minute, function_name: "idle" })]);
      const [v] = await t.sql`
      select error_rate, latency_p95_ms, queries_per_request, cache_hit_ratio, kms_reuse_ratio
      from monitoring.minute_metrics where function_name = 'idle'`;
      assertEquals(
        { ...v },
        {
          error_rate: null,
          latency_p95_ms: null,
          queries_per_request: null,
          cache_hit_ratio: null,
          kms_reuse_ratio: null,
        },
      );
    } finally {
      await t.drop();
    }
  },
);

Deno.test(
  "monitoring.path_summary() counts each flush in exactly one window and refuses an empty one",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000);
      const at = (s: number) => new Date(t0.getTime() + s * 1000);
      const flush = (s: number, path: "legacy" | "optimized", requests: number, errors: number) =>
        metricRow(bounds, {
          flushed_at: at(s),
          path,
          requests,
          server_errors: errors,
          db_queries: requests * 3,
          latency_buckets: histogram(
            Array.from({ length: requests }, (_, i) => (i % 10) * 30),
            bounds.latencyMs,
          ),
          cache_l1_hits: requests,
          cache_l1_misses: requests,
          kms_requests: 4,
          kms_new_connections: 1,
          fallbacks: path === "optimized" ? 1 : 0,
        });
      const rows = [
        flush(5, "legacy", 100, 1),
        flush(10, "optimized", 40, 4),
        flush(35, "optimized", 60, 0),
        flush(65, "legacy", 80, 8),
        flush(29.999, "legacy", 20, 0),
      ];
      await insertRows(t.sql, rows);
      await insertRows(t.sql, [metricRow(bounds, { flushed_at: at(10), function_name: "other" })]);

      const windows = [[0, 30], [30, 60], [60, 90]] as const;
      const seen = new Map<string, number>();
      for (const [from, to] of windows) {
        const summary = await t.sql`
          select * from monitoring.path_summary('flight-search', ${at(from)}, ${at(to)})`;
        const inWindow = rows.filter((r) => r.flushed_at >= at(from) && r.flushed_at < at(to));
        assertEquals(
          summary.map((s) => s.path),
          [...new Set(inWindow.map((r) => r.path))].sort(),
        );
        for (const s of summary) {
          const mine = inWindow.filter((r) => r.path === s.path);
          const requests = mine.reduce((a, r) => a + r.requests, 0);
          const queries = mine.reduce((a, r) => a + r.db_queries, 0);
          assertEquals(Number(s.requests), requests);
          seen.set(s.path, (seen.get(s.path) ?? 0) + requests);
          close(s.error_rate, mine.reduce((a, r) => a + r.server_errors, 0) / requests, "errors");
          close(s.queries_per_request, queries / requests, "queries/request");
          close(s.db_query_rate_per_s, queries / (to - from), "query rate over the window");
          close(s.cache_hit_ratio, 0.5, "cache hit ratio");
          close(s.kms_reuse_ratio, 0.75, "KMS reuse ratio");
          const fallbacks = mine.reduce((a, r) => a + r.fallbacks, 0);
          assertEquals(Number(s.fallbacks), fallbacks);
          close(
            s.failure_rate,
            (mine.reduce((a, r) => a + r.server_errors, 0) + fallbacks) / requests,
            "failures: 5xx and fallbacks",
          );
          for (const column of ["p50_ms", "p95_ms", "p99_ms"]) {
            assert(Number.isFinite(s[column]), `${column} = ${s[column]}`);
          }
          assert(s.p50_ms <= s.p95_ms && s.p95_ms <= s.p99_ms, "quantiles are ordered");
        }
      }
      for (const path of ["legacy", "optimized"]) {
        assertEquals(
          seen.get(path),
          rows.filter((r) => r.path === path).reduce((a, r) => a + r.requests, 0),
          `${path}: consecutive windows count every flush once`,
        );
      }
      await assertRejects(
        () => t.sql`select * from monitoring.path_summary('flight-search', ${at(30)}, ${at(30)})`,
        Error,
        "must be after",
      );
    } finally {
      await t.drop();
    }
  },
);

Deno.test(
  "monitoring.function_totals counts every flush, also concurrent ones, and never goes back",
  db,
  async () => {
    const t = await testDatabase({ seeded: false });
    try {
      const bounds = await readBounds(t.sql);
      const random = seededRandom(99);
      const flushes = Array.from(
        { length: 24 },
        (_, i) =>
          (["legacy", "optimized"] as const).map((path) =>
            metricRow(bounds, {
              path,
              isolate_id: `isolate-${i % 4}`,
              requests: 10 + Math.floor(random() * 90),
              server_errors: Math.floor(random() * 3),
              db_queries: Math.floor(random() * 300),
              latency_buckets: split(10, bounds.latencyMs.length + 1, random),
              cache_l1_hits: 5,
              cache_l1_misses: 3,
              cache_l2_hits: 1,
              cache_l2_misses: 2,
            })
          ),
      );
      // Concurrent flushes from several isolates lock the totals rows in the same order.
      await Promise.all(flushes.map((rows) => insertRows(t.sql, rows)));
      const all = flushes.flat();
      const totals = async () =>
        await t.sql`select * from monitoring.function_totals order by function_name, path`;
      const before = await totals();
      assertEquals(before.map((r) => r.path), ["legacy", "optimized"]);
      for (const row of before) {
        const mine = all.filter((r) => r.path === row.path);
        const sum = (f: (r: MetricRow) => number) => mine.reduce((a, r) => a + f(r), 0);
        assertEquals(Number(row.requests), sum((r) => r.requests));
        assertEquals(Number(row.server_errors), sum((r) => r.server_errors));
        assertEquals(Number(row.db_queries), sum((r) => r.db_queries));
        assertEquals(Number(row.cache_lookups), mine.length * (5 + 3));
        assertEquals(
          (row.latency_buckets as string[]).map(Number),
          bounds.latencyMs.concat(0).map((_, i) => sum((r) => r.latency_buckets[i]!)),
        );
      }
      // Retention deletes detail rows; the counters a scraper has seen must not drop.
      await t.sql`delete from monitoring.function_metrics`;
      assertEquals(await totals(), before);

      // A flush as service_role (what a function may connect as) goes through the trigger too.
      await t.sql.begin(async (tx) => {
        await tx`set local role service_role`;
        await insertRows(tx as unknown as typeof t.sql, [metricRow(bounds, { requests: 7 })]);
      });
      const after = await totals();
      assertEquals(Number(after[1]!.requests), Number(before[1]!.requests) + 7);
    } finally {
      await t.drop();
    }
  },
);

Deno.test("monitoring.isolate_memory keeps each live isolate's latest reading", db, async () => {
  const t = await testDatabase({ seeded: false });
  try {
    const bounds = await readBounds(t.sql);
    const ago = (s: number) => new Date(Date.now() - s * 1000);
    await insertRows(t.sql, [
      metricRow(bounds, { isolate_id: "a", flushed_at: ago(90), memory_rss_bytes: 100 }),
      metricRow(bounds, { isolate_id: "a", flushed_at: ago(30), memory_rss_bytes: 150 }),
      metricRow(bounds, { isolate_id: "b", flushed_at: ago(20), memory_rss_bytes: 70 }),
      metricRow(bounds, { isolate_id: "gone", flushed_at: ago(600), memory_rss_bytes: 999 }),
      metricRow(bounds, { isolate_id: "silent", flushed_at: ago(10), memory_rss_bytes: null }),
    ]);
    const rows = await t.sql`
      select isolate_id, memory_rss_bytes from monitoring.isolate_memory order by isolate_id`;
    assertEquals(rows.map((r) => [r.isolate_id, Number(r.memory_rss_bytes)]), [["a", 150], [
      "b",
      70,
    ]]);
  } finally {
    await t.drop();
  }
});

Deno.test("monitoring views and functions answer service_role only", db, async () => {
  const t = await testDatabase({ seeded: false });
  try {
    const reads = [
      "select count(*) from monitoring.minute_metrics",
      "select count(*) from monitoring.minute_batch_sizes",
      "select count(*) from monitoring.function_totals",
      "select count(*) from monitoring.isolate_memory",
      "select count(*) from monitoring.path_summary('flight-search', now() - interval '1 hour', now())",
      "select monitoring.histogram_quantile(0.5, '{1}', '{1,1}')",
    ];
    for (const role of ["anon", "authenticated", "service_role"]) {
      for (const statement of reads) {
        const attempt = t.sql.begin(async (tx) => {
          await tx.unsafe(`set local role ${role}`);
          await tx.unsafe(statement);
        });
        if (role === "service_role") await attempt;
        else await assertRejects(() => attempt, Error, "permission denied");
      }
    }
  } finally {
    await t.drop();
  }
});
