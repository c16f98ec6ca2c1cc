import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { dashboardPath, type Panel, type Target } from "../../scripts/monitoring/dashboard.ts";
import {
  expandGrafanaSql,
  type GrafanaQueryContext,
  type GrafanaVariable,
} from "../../scripts/monitoring/grafana_sql.ts";
import {
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

// Postgres type oids the checks need.
const numericTypes = new Set([20, 21, 23, 700, 701, 1700]);
const textTypes = new Set([25, 1043]);
const timeTypes = new Set([701, 1700, 1184, 1114]);

interface Column {
  name: string;
  type: number;
}

interface Variable {
  name: string;
  type: string;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
  current?: { value: string | string[] };
}

/** Two hours of flushes per path for flight-search, plus a KMS-only function. */
function syntheticRows(bounds: Awaited<ReturnType<typeof readBounds>>): MetricRow[] {
  const random = seededRandom(314);
  const now = Date.now();
  const rows: MetricRow[] = [];
  for (let minute = 120; minute >= 1; minute--) {
    const flushedAt = new Date(now - minute * 60_000 + 30_000);
    for (const path of ["legacy", "optimized"] as const) {
      const requests = 20 + Math.floor(random() * 60);
      const latencies = Array.from(
        { length: requests },
        () => (path === "legacy" ? 40 : 8) + random() * (path === "legacy" ? 700 : 90),
      );
      const batches = path === "optimized" ? 1 + Math.floor(random() * 5) : 0;
      rows.push(metricRow(bounds, {
        bucket_start: minuteOf(flushedAt),
        flushed_at: flushedAt,
        path,
        isolate_id: `isolate-${minute % 2}`,
        requests,
        server_errors: Math.floor(random() * 3),
        client_errors: Math.floor(random() * 3),
        fallbacks: path === "optimized" ? Math.floor(random() * 2) : 0,
        latency_sum_ms: latencies.reduce((a, b) => a + b, 0),
        latency_buckets: histogram(latencies, bounds.latencyMs),
        db_queries: path === "legacy" ? 3 * requests : 3 * batches,
        db_batches: batches,
        batch_size_buckets: split(batches, bounds.batchSize.length + 1, random),
        cache_l1_hits: Math.floor(requests / 2),
        cache_l1_misses: requests - Math.floor(requests / 2),
        cache_l2_hits: 3,
        cache_l2_misses: requests - Math.floor(requests / 2) - 3,
        kms_requests: 4,
        kms_new_connections: Math.floor(random() * 2),
        memory_rss_bytes: 50_000_000 + (120 - minute) * 10_000,
      }));
    }
    rows.push(metricRow(bounds, {
      bucket_start: minuteOf(flushedAt),
      flushed_at: flushedAt,
      function_name: "payment-methods",
      path: "none",
      requests: 10,
      latency_buckets: histogram(Array(10).fill(30), bounds.latencyMs),
      kms_requests: 20,
      kms_new_connections: 1,
      memory_rss_bytes: 30_000_000,
    }));
  }
  return rows;
}

/** Runs `sql` as service_role (the grants Grafana's role has) and returns rows and columns. */
async function run(
  sql: Awaited<ReturnType<typeof testDatabase>>["sql"],
  statement: string,
): Promise<{ rows: Record<string, unknown>[]; columns: Column[] }> {
  return await sql.begin(async (tx) => {
    await tx`set local role service_role`;
    const result = await tx.unsafe(statement);
    return {
      rows: [...result] as Record<string, unknown>[],
      columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
    };
  });
}

function checkColumns(
  panel: Panel,
  target: Target,
  result: { rows: Record<string, unknown>[]; columns: Column[] },
) {
  const where = `${panel.title} (${target.refId})`;
  const names = result.columns.map((c) => c.name);
  assertEquals(new Set(names).size, names.length, `${where}: duplicate column names ${names}`);
  assert(result.rows.length > 0, `${where}: no rows on synthetic data`);
  const numeric = (c: Column) => numericTypes.has(c.type);
  if (target.format === "time_series") {
    const time = result.columns.find((c) => c.name === "time");
    assert(time && timeTypes.has(time.type), `${where}: needs a time column, has ${names}`);
    const metric = result.columns.find((c) => c.name === "metric");
    assert(metric && textTypes.has(metric.type), `${where}: needs a text metric column`);
    const values = result.columns.filter((c) => c.name !== "time" && c.name !== "metric");
    assert(values.length > 0 && values.every(numeric), `${where}: value columns must be numeric`);
    const times = result.rows.map((r) => Number(r.time));
    assert(times.every((t, i) => i === 0 || t >= times[i - 1]!), `${where}: not sorted by time`);
    for (const c of values) {
      assert(result.rows.some((r) => r[c.name] !== null), `${where}: ${c.name} is always null`);
    }
  } else if (panel.type === "stat") {
    const pattern = (panel.options as { reduceOptions: { fields: string } }).reduceOptions.fields;
    const regex = new RegExp(pattern.slice(1, -1));
    const shown = result.columns.filter((c) => regex.test(c.name));
    assertEquals(shown.length, 1, `${where}: ${pattern} must pick one column of ${names}`);
    assert(numeric(shown[0]!), `${where}: ${shown[0]!.name} is not numeric`);
    assert(
      result.columns.some((c) => textTypes.has(c.type)),
      `${where}: no text column names rows`,
    );
    assert(
      result.rows.some((r) => r[shown[0]!.name] !== null),
      `${where}: ${shown[0]!.name} is always null`,
    );
  } else if (panel.type === "barchart") {
    const x = (panel.options as { xField: string }).xField;
    const xColumn = result.columns.find((c) => c.name === x);
    assert(xColumn && textTypes.has(xColumn.type), `${where}: needs text column ${x}`);
    assert(result.columns.filter((c) => c.name !== x).every(numeric), `${where}: numeric values`);
  } else {
    throw new Error(`${where}: no column expectations for a ${panel.type} panel`);
  }
}

Deno.test(
  "dashboard: every panel's SQL, expanded as Grafana expands it, runs and returns its columns",
  db,
  async () => {
    const t = await testDatabase({ seeded: true });
    try {
      const bounds = await readBounds(t.sql);
      const rows = syntheticRows(bounds);
      for (let i = 0; i < rows.length; i += 50) await insertRows(t.sql, rows.slice(i, i + 50));
      // Breakers as two isolates flushed them: one open, one closed.
      await t.sql`
        insert into monitoring.circuit_breakers
          (function_name, isolate_id, dependency, state, opens, rejected, last_opened_at)
        values ('flight-search', 'i-1', 'database', 'open', 1, 12, now()),
               ('flight-search', 'i-2', 'database', 'closed', 0, 0, null)`;

      const json = JSON.parse(await Deno.readTextFile(dashboardPath)) as {
        panels: Panel[];
        templating: { list: Variable[] };
      };
      const to = new Date();
      const from = new Date(to.getTime() - 6 * 3_600_000);
      const variables: Record<string, GrafanaVariable> = {};
      // Query variables first, in order, each expanded with the ones before it (as Grafana does).
      for (const v of json.templating.list.filter((v) => v.type === "query")) {
        const context = { from, to, intervalMs: 60_000, variables };
        const { rows: options, columns } = await run(t.sql, expandGrafanaSql(v.query!, context));
        assertEquals(columns.length, 1, `variable ${v.name} answers one column`);
        const values = options.map((o) => String(Object.values(o)[0]));
        assert(values.length > 0, `variable ${v.name} has options`);
        const current = v.current?.value;
        if (v.includeAll && Array.isArray(current) && current.includes("$__all")) {
          variables[v.name] = { value: values, multi: true };
        } else {
          assert(values.includes(String(current)), `${v.name}: ${current} is not an option`);
          variables[v.name] = { value: String(current), multi: v.multi };
        }
      }
      assertEquals(variables.path?.value, ["legacy", "optimized"]);

      const queried = json.panels.filter((p) => p.targets && p.targets.length > 0);
      assert(queried.length >= 15, `${queried.length} panels with queries`);
      // Two intervals: Grafana's minimum for these panels and a coarser one for long ranges.
      for (const intervalMs of [60_000, 600_000]) {
        const context: GrafanaQueryContext = { from, to, intervalMs, variables };
        for (const panel of queried) {
          for (const target of panel.targets!) {
            const sql = expandGrafanaSql(target.rawSql, context);
            assert(!/\$\w/.test(sql.replace(/'[^']*'/g, "")), `${panel.title}: unexpanded ${sql}`);
            let result;
            try {
              result = await run(t.sql, sql);
            } catch (error) {
              throw new Error(`${panel.title}: ${(error as Error).message}\n${sql}`);
            }
            checkColumns(panel, target, result);
          }
        }
      }
    } finally {
      await t.drop();
    }
  },
);
