/**
 * The dashboard's panels as Grafana stores them — rows, stats, time series and a bar chart on the
 * 24-column grid — and the SLA colouring of a panel from config/sla.json's levels.
 *
 * @module
 */
import type { SlaMetric } from "./sla_config.ts";
import { summarySql } from "./dashboard_queries.ts";

/** Grafana's plugin id of its built-in PostgreSQL datasource (Grafana 10.3+). */
export const postgresPluginId = "grafana-postgresql-datasource";

/** The datasource reference every panel and query variable uses. */
export const datasource = { type: postgresPluginId, uid: "${DS_POSTGRES}" } as const;

/** A JSON object. */
export type Json = Record<string, unknown>;

/** One query of a panel as Grafana stores it. */
export interface Target {
  refId: string;
  datasource: typeof datasource;
  editorMode: "code";
  format: "time_series" | "table";
  rawQuery: true;
  rawSql: string;
}

/** A dashboard panel (the fields this module writes). */
export interface Panel extends Json {
  id: number;
  type: "row" | "timeseries" | "stat" | "barchart";
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}

/** Grafana thresholds: colour steps from a base value up. */
export type Thresholds = { mode: string; steps: Json[] };

/** Threshold steps for an SLA metric: green on the good side, yellow past warning, red past
 * critical (or the rollback level when there is no critical one). */
export function slaThresholds(metric: SlaMetric, scale = 1): Thresholds {
  const red = metric.critical ?? metric.rollback;
  const yellow = metric.warning;
  const steps: Json[] = [];
  if (metric.better === "lower") {
    steps.push({ color: "green", value: null });
    if (yellow !== null && (red === null || yellow < red)) {
      steps.push({ color: "yellow", value: yellow * scale });
    }
    if (red !== null) steps.push({ color: "red", value: red * scale });
  } else {
    steps.push({ color: red !== null ? "red" : "yellow", value: null });
    if (red !== null && yellow !== null && yellow > red) {
      steps.push({ color: "yellow", value: red * scale });
    }
    const good = yellow ?? red;
    if (good !== null) steps.push({ color: "green", value: good * scale });
  }
  return { mode: "absolute", steps };
}

const target = (sql: string, format: Target["format"], refId = "A"): Target => ({
  refId,
  datasource,
  editorMode: "code",
  format,
  rawQuery: true,
  rawSql: sql,
});

/**
 * What a panel shows about an SLA metric. With `sla`, the panel is coloured by the metric's levels
 * and described by its description unless `description` is given.
 */
interface Described {
  title: string;
  description?: string;
  /** The SLA metric the panel shows: its levels colour the panel. */
  sla?: SlaMetric;
  /** Colouring other than the SLA metric's levels. */
  thresholds?: Thresholds;
}

/** A stat panel: one value per path over the dashboard's range. */
export interface StatSpec extends Described {
  column: string;
  unit: string;
  decimals?: number;
  /** The query, when not the selected function's path_summary (rows: path, `column`). */
  sql?: string;
}

/** A time-series panel. */
export interface SeriesSpec extends Described {
  sql: string;
  unit: string;
  min?: number;
  max?: number;
  width?: number;
}

/** A bar chart of a table query, one bar per row. */
export interface BarChartSpec {
  title: string;
  description: string;
  /** The column the bars are labelled by. */
  xField: string;
  sql: string;
}

/** The description and colouring of a panel. @throws {Error} when it has no description. */
function describedBy(spec: Described): { description: string; thresholds?: Thresholds } {
  const description = spec.description ?? spec.sla?.description;
  if (description === undefined) throw new Error(`panel "${spec.title}" has no description`);
  const thresholds = spec.thresholds ?? (spec.sla ? slaThresholds(spec.sla) : undefined);
  return { description, thresholds };
}

/**
 * The dashboard's panels in order, each placed left to right on Grafana's 24-column grid and
 * wrapped to the next line when it does not fit; a row starts a new line. Ids count up from 1.
 */
export class PanelGrid {
  /** The panels added so far. */
  readonly panels: Panel[] = [];
  #y = 0;
  #x = 0;
  #rowHeight = 0;
  #nextId = 1;

  #newLine(): void {
    this.#y += this.#rowHeight;
    this.#x = 0;
    this.#rowHeight = 0;
  }

  #place(w: number, h: number): Panel["gridPos"] {
    if (this.#x + w > 24) this.#newLine();
    const gridPos = { h, w, x: this.#x, y: this.#y };
    this.#x += w;
    this.#rowHeight = Math.max(this.#rowHeight, h);
    return gridPos;
  }

  /** Adds a panel of `w` × `h` with the next id, the datasource, and `body` after them. */
  #add(
    type: Panel["type"],
    title: string,
    description: string,
    size: [number, number],
    body: Json,
  ) {
    this.panels.push({
      id: this.#nextId++,
      type,
      title,
      description,
      datasource,
      gridPos: this.#place(...size),
      ...body,
    });
  }

  /** A row header across the grid: the panels after it belong to it. */
  row(title: string): void {
    if (this.#x > 0) this.#newLine();
    this.panels.push({
      id: this.#nextId++,
      type: "row",
      title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: this.#y },
      panels: [],
    });
    this.#y += 1;
  }

  /** A stat panel, 3 columns wide. */
  stat(spec: StatSpec): void {
    const { description, thresholds } = describedBy(spec);
    this.#add("stat", spec.title, description, [3, 5], {
      fieldConfig: {
        defaults: {
          unit: spec.unit,
          ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
          color: { mode: "thresholds" },
          thresholds: thresholds ?? { mode: "absolute", steps: [{ color: "blue", value: null }] },
          noValue: "no traffic",
        },
        overrides: [],
      },
      options: {
        // One value per row: the path column names it, so legacy and optimized sit side by side.
        reduceOptions: { values: true, calcs: ["lastNotNull"], fields: `/^${spec.column}$/` },
        orientation: "vertical",
        textMode: "value_and_name",
        colorMode: "background",
        graphMode: "none",
        justifyMode: "center",
      },
      targets: [target(spec.sql ?? summarySql(spec.column), "table")],
    });
  }

  /** A time-series panel, half the grid wide unless `width` says otherwise. */
  series(spec: SeriesSpec): void {
    const { description, thresholds } = describedBy(spec);
    this.#add("timeseries", spec.title, description, [spec.width ?? 12, 8], {
      // Minute buckets: a finer interval would only split minutes.
      interval: "1m",
      fieldConfig: {
        defaults: {
          unit: spec.unit,
          ...(spec.min !== undefined ? { min: spec.min } : {}),
          ...(spec.max !== undefined ? { max: spec.max } : {}),
          color: { mode: "palette-classic" },
          custom: {
            drawStyle: "line",
            lineWidth: 2,
            fillOpacity: 0,
            spanNulls: false,
            showPoints: "never",
            thresholdsStyle: { mode: thresholds ? "line" : "off" },
          },
          thresholds: thresholds ?? { mode: "absolute", steps: [{ color: "green", value: null }] },
        },
        overrides: [],
      },
      options: {
        legend: {
          displayMode: "table",
          placement: "bottom",
          calcs: ["mean", "max", "lastNotNull"],
        },
        tooltip: { mode: "multi", sort: "none" },
      },
      targets: [target(spec.sql, "time_series")],
    });
  }

  /** A bar chart, half the grid wide. */
  barchart(spec: BarChartSpec): void {
    this.#add("barchart", spec.title, spec.description, [12, 8], {
      fieldConfig: {
        defaults: { unit: "short", color: { mode: "palette-classic" } },
        overrides: [],
      },
      options: {
        xField: spec.xField,
        orientation: "auto",
        showValue: "auto",
        legend: { displayMode: "list", placement: "bottom" },
        tooltip: { mode: "single" },
      },
      targets: [target(spec.sql, "table")],
    });
  }
}
