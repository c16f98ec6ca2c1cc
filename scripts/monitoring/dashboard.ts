/**
 * The Grafana dashboard `monitoring/performance-optimization-dashboard.json`, rendered from code
 * so its SLA thresholds come from config/sla.json and its SQL lives next to the views it reads.
 *
 * Every panel reads the monitoring views and functions (migration 20261122000500), never the
 * metric math of its own: time series re-aggregate `monitoring.minute_metrics` into Grafana's
 * interval, the SLA stats call `monitoring.path_summary()` over the dashboard's range — the same
 * numbers the rollout CLI judges. Legacy and optimized are series of the same panel (or values of
 * the same stat), side by side.
 *
 * The rows are ./dashboard_rows.ts, their panels ./dashboard_panels.ts, their SQL
 * ./dashboard_queries.ts; this module assembles the dashboard around them and writes it.
 *
 * The datasource is an input (`${DS_POSTGRES}`): importing through the UI asks for it, and for
 * file provisioning a datasource variable of the same name resolves it to a PostgreSQL source.
 *
 * ```sh
 * deno run -A scripts/monitoring/dashboard.ts          # rewrite the dashboard JSON
 * deno run -A scripts/monitoring/dashboard.ts --check  # exit 1 when it is stale
 * ```
 *
 * @module
 */
import { repoRoot } from "../local/paths.ts";
import { readSlaConfig, type SlaConfig } from "./sla_config.ts";
import { runGeneratedFile } from "../_cli/generated_file.ts";
import { datasource, type Json, PanelGrid, postgresPluginId } from "./dashboard_panels.ts";
import {
  cacheRow,
  databaseRow,
  kmsAndMemoryRow,
  latencyRow,
  slaLookup,
  slaRow,
  trafficRow,
} from "./dashboard_rows.ts";

export {
  datasource,
  type Panel,
  postgresPluginId,
  slaThresholds,
  type Target,
} from "./dashboard_panels.ts";

/** Where the rendered dashboard is committed (the folder Grafana's file provider reads). */
export const dashboardPath = `${repoRoot}/monitoring/performance-optimization-dashboard.json`;

/** The dashboard's stable uid (its URL); not a datasource id. */
export const dashboardUid = "parker-flight-performance";

/** The panels, row by row. */
function panels(sla: SlaConfig): Json[] {
  const grid = new PanelGrid();
  const m = slaLookup(sla);
  for (const row of [slaRow, trafficRow, latencyRow, databaseRow, cacheRow, kmsAndMemoryRow]) {
    row(grid, m);
  }
  return grid.panels;
}

/** What importing the dashboard asks for and needs: the datasource input, Grafana, plugins. */
function imports(): Json {
  return {
    __inputs: [{
      name: "DS_POSTGRES",
      label: "PostgreSQL",
      description: "The project's Postgres (a role with service_role's grants on monitoring).",
      type: "datasource",
      pluginId: postgresPluginId,
      pluginName: "PostgreSQL",
    }],
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.4.0" },
      { type: "datasource", id: postgresPluginId, name: "PostgreSQL", version: "1.0.0" },
      { type: "panel", id: "timeseries", name: "Time series", version: "" },
      { type: "panel", id: "stat", name: "Stat", version: "" },
      { type: "panel", id: "barchart", name: "Bar chart", version: "" },
    ],
  };
}

/** The variables: the datasource (for file provisioning), the function and its code paths. */
function templating(): Json {
  return {
    list: [
      {
        // Resolves ${DS_POSTGRES} when the dashboard is provisioned from files (no import
        // step replaces the input then).
        name: "DS_POSTGRES",
        label: "Data source",
        type: "datasource",
        query: postgresPluginId,
        current: {},
        hide: 0,
        includeAll: false,
        multi: false,
        options: [],
        refresh: 1,
        regex: "",
      },
      {
        name: "function",
        label: "Function",
        type: "query",
        datasource,
        definition: "select function_name from monitoring.function_totals order by 1",
        query: "select function_name from monitoring.function_totals order by 1",
        current: { selected: true, text: "flight-search", value: "flight-search" },
        hide: 0,
        includeAll: false,
        multi: false,
        options: [],
        refresh: 2,
        regex: "",
        sort: 0,
      },
      {
        name: "path",
        label: "Code path",
        type: "query",
        datasource,
        definition:
          "select path from monitoring.function_totals where function_name = '$function' order by 1",
        query:
          "select path from monitoring.function_totals where function_name = '$function' order by 1",
        current: { selected: true, text: ["All"], value: ["$__all"] },
        hide: 0,
        includeAll: true,
        multi: true,
        options: [],
        refresh: 2,
        regex: "",
        sort: 0,
      },
    ],
  };
}

/** The dashboard JSON for `sla`. */
export function dashboard(sla: SlaConfig): Json {
  return {
    ...imports(),
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: "grafana", uid: "-- Grafana --" },
        enable: true,
        hide: true,
        iconColor: "rgba(0, 211, 255, 1)",
        name: "Annotations & Alerts",
        type: "dashboard",
      }],
    },
    description: "flight-search legacy vs optimized path: traffic, errors, latency, database " +
      "work, cache, KMS and memory, with SLA levels from config/sla.json. Generated by " +
      "scripts/monitoring/dashboard.ts.",
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels: panels(sla),
    refresh: "1m",
    schemaVersion: 39,
    tags: ["parker-flight", "performance", "supabase"],
    templating: templating(),
    time: { from: "now-6h", to: "now" },
    timepicker: {},
    timezone: "browser",
    title: "Parker Flight — performance optimization (legacy vs optimized)",
    uid: dashboardUid,
    version: 1,
  };
}

/** The dashboard file's text. */
export function renderDashboard(sla: SlaConfig): string {
  return `${JSON.stringify(dashboard(sla), null, 2)}\n`;
}

if (import.meta.main) {
  const render = () => readSlaConfig().then(renderDashboard);
  const regenerate = "deno run -A scripts/monitoring/dashboard.ts";
  await runGeneratedFile({ path: dashboardPath, render, regenerate });
}
