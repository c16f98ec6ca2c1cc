import { parse } from "yaml";
import { assert, assertEquals } from "../../tests/support/assert.ts";
import { repoRoot } from "../local/paths.ts";
import {
  dashboard,
  dashboardPath,
  datasource,
  type Panel,
  postgresPluginId,
  renderDashboard,
} from "./dashboard.ts";
import { readSlaConfig } from "./sla_config.ts";

const provisioning = `${repoRoot}/monitoring/grafana/provisioning`;

/** Every value found under a key named `key`, anywhere in `value`. */
function collect(value: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => collect(v, key, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

Deno.test("dashboard: the committed JSON equals a fresh rendering from config/sla.json", async () => {
  assertEquals(
    await Deno.readTextFile(dashboardPath),
    renderDashboard(await readSlaConfig()),
    "stale: run deno run -A scripts/monitoring/dashboard.ts",
  );
});

Deno.test("dashboard() refers to its datasource only through the DS_POSTGRES input", async () => {
  const json = JSON.parse(await Deno.readTextFile(dashboardPath));
  assertEquals(json.id, null);
  const input = json.__inputs.find((i: { name: string }) => i.name === "DS_POSTGRES");
  assertEquals([input?.type, input?.pluginId], ["datasource", postgresPluginId]);
  const refs = collect(json.panels, "datasource").concat(
    collect(json.templating.list.filter((v: { type: string }) => v.type === "query"), "datasource"),
  );
  assert(refs.length > 0);
  for (const ref of refs) assertEquals(ref, datasource);
  // Provisioned from files, no import replaces the input: a datasource variable of that name does.
  const dsVariable = json.templating.list.find((v: { name: string }) => v.name === "DS_POSTGRES");
  assertEquals([dsVariable?.type, dsVariable?.query], ["datasource", postgresPluginId]);
});

Deno.test("dashboard() has function and path variables and every panel filters by them", async () => {
  const json = dashboard(await readSlaConfig()) as {
    panels: Panel[];
    templating: { list: { name: string; multi: boolean; includeAll: boolean }[] };
  };
  const variables = Object.fromEntries(json.templating.list.map((v) => [v.name, v]));
  assertEquals([variables.function?.multi, variables.path?.multi], [false, true]);
  assertEquals(variables.path?.includeAll, true);
  const perPath = json.panels.filter((p) => p.targets && !/KMS|memory|breaker/i.test(p.title));
  assert(perPath.length >= 10, `${perPath.length} panels`);
  for (const panel of perPath) {
    const sql = panel.targets![0]!.rawSql;
    assert(sql.includes("$function") && sql.includes("($path)"), `${panel.title}: ${sql}`);
  }
});

Deno.test("dashboard() stat thresholds are config/sla.json's levels, red on the bad side", async () => {
  const sla = await readSlaConfig();
  const json = dashboard(sla) as { panels: Panel[] };
  const slaOfColumn: Record<string, string> = {
    error_rate: "error_rate",
    p95_ms: "latency_p95_ms",
    cache_hit_ratio: "cache_hit_ratio",
    db_query_rate_per_s: "db_query_rate_per_s",
    kms_reuse_ratio: "kms_reuse_ratio",
  };
  let checked = 0;
  for (const panel of json.panels.filter((p) => p.type === "stat")) {
    const fields = (panel.options as { reduceOptions: { fields: string } }).reduceOptions.fields;
    const key = slaOfColumn[fields.replace(/^\/\^|\$\/$/g, "")];
    if (!key) continue;
    const metric = sla.metrics[key]!;
    const steps = (panel.fieldConfig as {
      defaults: { thresholds: { steps: { color: string; value: number | null }[] } };
    }).defaults.thresholds.steps;
    const levels = new Set(
      [metric.warning, metric.critical, metric.rollback].filter((v) => v !== null),
    );
    for (const step of steps.slice(1)) assert(levels.has(step.value!), `${key}: ${step.value}`);
    const red = metric.critical ?? metric.rollback;
    if (metric.better === "lower") {
      assertEquals(steps[0]!.color, "green", key);
      if (red !== null) assertEquals(steps.at(-1), { color: "red", value: red }, key);
    } else {
      assertEquals(steps.at(-1)!.color, "green", key);
      assertEquals(steps.at(-1)!.value, metric.warning ?? red, key);
      if (red !== null) assertEquals(steps[0]!.color, "red", key);
    }
    checked++;
  }
  assertEquals(checked, Object.keys(slaOfColumn).length);
});

Deno.test("dashboard() panels have unique ids and do not overlap on the 24-column grid", async () => {
  const json = dashboard(await readSlaConfig()) as { panels: Panel[] };
  const ids = json.panels.map((p) => p.id);
  assertEquals(new Set(ids).size, ids.length);
  const cells = new Set<string>();
  for (const { title, gridPos: g } of json.panels) {
    assert(g.x >= 0 && g.x + g.w <= 24, `${title} is off the grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        assert(!cells.has(`${x},${y}`), `${title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
});

Deno.test("grafana provisioning: a postgres datasource from env vars and a file provider", async () => {
  const ds = parse(
    await Deno.readTextFile(`${provisioning}/datasources/parker-flight-postgres.yml`),
  );
  assertEquals(ds.apiVersion, 1);
  const [source] = ds.datasources;
  assertEquals(source.type, postgresPluginId);
  // Everything environment-specific, the password above all, comes from the environment.
  for (
    const value of [source.url, source.user, source.jsonData.database, source.jsonData.sslmode]
  ) {
    assert(/^\$\{MONITORING_PG_[A-Z]+\}/.test(value), String(value));
  }
  assertEquals(source.secureJsonData.password, "${MONITORING_PG_PASSWORD}");
  assertEquals(source.password, undefined, "never a plain-text password field");

  const dashboards = parse(
    await Deno.readTextFile(`${provisioning}/dashboards/parker-flight.yml`),
  );
  assertEquals(dashboards.apiVersion, 1);
  const [provider] = dashboards.providers;
  assertEquals(provider.type, "file");
  assertEquals(provider.options.path, "${MONITORING_DASHBOARDS_DIR}");
  // The folder that variable names (monitoring/) holds the dashboard and no other JSON.
  const json = [...Deno.readDirSync(`${repoRoot}/monitoring`)].filter((e) =>
    e.name.endsWith(".json")
  );
  assertEquals(json.map((e) => e.name), ["performance-optimization-dashboard.json"]);
});
