/**
 * Expands a Grafana PostgreSQL panel query the way Grafana does before it reaches the database,
 * so tests can run the dashboard's SQL as Grafana would send it.
 *
 * Two steps, in Grafana's order:
 * 1. the frontend replaces template variables (`$var`, `${var}`, `${var:format}`, `[[var]]`)
 *    and the built-ins `$__interval`, `$__interval_ms`, `$__from`, `$__to`; a single-valued
 *    variable is inserted with quotes doubled, a multi-value or "All" one as a comma-separated
 *    list of quoted literals (the SQL datasources' `interpolateVariable`);
 * 2. the postgres datasource's backend expands its macros (`$__timeFilter(col)`,
 *    `$__timeGroupAlias(col, interval)`, `$__timeFrom()`, ...; see Grafana's
 *    pkg/tsdb/grafana-postgresql-datasource/macros.go) and sqleng's `$__unixEpochFrom()`/`To()`.
 *
 * @module
 */

/** A template variable's current value. */
export interface GrafanaVariable {
  value: string | string[];
  /** Multi-value or include-All: values are quoted even when only one is selected. */
  multi?: boolean;
}

/** The time range, interval and variables a panel query is expanded with. */
export interface GrafanaQueryContext {
  from: Date;
  to: Date;
  /** The panel's `$__interval` in milliseconds. */
  intervalMs: number;
  variables: Record<string, GrafanaVariable>;
}

/** Thrown for a macro or format Grafana would refuse. */
export class GrafanaMacroError extends Error {
  override name = "GrafanaMacroError";
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Grafana's `gtime.FormatInterval`: the largest whole unit (`1m`, `5m`, `1h`, `30s`, `1d`). */
export function formatInterval(ms: number): string {
  const units: [string, number][] = [
    ["y", 365 * 86_400_000],
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  for (const [unit, size] of units) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return "1ms";
}

/** Grafana's `gtime.ParseInterval` for the units a dashboard uses; milliseconds. */
export function parseInterval(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text.trim());
  if (!match) throw new GrafanaMacroError(`error parsing interval ${text}`);
  const size: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    y: 31_536_000_000,
  };
  return Number(match[1]) * size[match[2]!]!;
}

/** Go's `time.RFC3339Nano` in UTC: fractional seconds without trailing zeros, `Z`. */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(
    /\.(\d*?)0*Z$/,
    (_, digits: string) => digits ? `.${digits}Z` : "Z",
  );
}

function formatVariable(name: string, variable: GrafanaVariable, format?: string): string {
  const values = Array.isArray(variable.value) ? variable.value : [variable.value];
  switch (format) {
    case undefined:
      return Array.isArray(variable.value) || variable.multi
        ? values.map(quoteLiteral).join(",")
        : values[0]!.replace(/'/g, "''");
    case "raw":
      return values.join(",");
    case "csv":
      return values.join(",");
    case "singlequote":
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(",");
    case "sqlstring":
      return values.map(quoteLiteral).join(",");
    default:
      throw new GrafanaMacroError(`unsupported format ${format} for variable ${name}`);
  }
}

/** Step 1: the frontend's template variable replacement. Unknown names stay as written. */
export function interpolateVariables(sql: string, context: GrafanaQueryContext): string {
  const builtins: Record<string, GrafanaVariable> = {
    __interval: { value: formatInterval(context.intervalMs) },
    __interval_ms: { value: String(context.intervalMs) },
    __from: { value: String(context.from.getTime()) },
    __to: { value: String(context.to.getTime()) },
  };
  const lookup = (name: string) => context.variables[name] ?? builtins[name];
  return sql.replace(
    /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g,
    (
      whole,
      plain?: string,
      bracket?: string,
      bracketFormat?: string,
      braced?: string,
      format?: string,
    ) => {
      const name = plain ?? bracket ?? braced!;
      const variable = lookup(name);
      if (!variable) return whole;
      return formatVariable(name, variable, bracketFormat ?? format);
    },
  );
}

function evaluateMacro(name: string, args: string[], context: GrafanaQueryContext): string {
  const from = rfc3339Nano(context.from);
  const to = rfc3339Nano(context.to);
  const needColumn = () => {
    if (!args[0]) throw new GrafanaMacroError(`missing time column argument for macro ${name}`);
    return args[0];
  };
  const group = (expression: (column: string, seconds: number) => string) => {
    if (args.length < 2) {
      throw new GrafanaMacroError(
        `macro ${name} needs time column and interval and optional fill value`,
      );
    }
    const seconds = parseInterval(args[1]!.replace(/'/g, "")) / 1000;
    return expression(args[0]!, seconds);
  };
  switch (name) {
    case "__time":
      return `${needColumn()} AS "time"`;
    case "__timeEpoch":
      return `extract(epoch from ${needColumn()}) as "time"`;
    case "__timeFilter":
      return `${needColumn()} BETWEEN '${from}' AND '${to}'`;
    case "__timeFrom":
      return `'${from}'`;
    case "__timeTo":
      return `'${to}'`;
    case "__timeGroup":
      return group((c, s) => `floor(extract(epoch from ${c})/${s})*${s}`);
    case "__timeGroupAlias":
      return `${evaluateMacro("__timeGroup", args, context)} AS "time"`;
    case "__unixEpochFilter": {
      const c = needColumn();
      const f = Math.floor(context.from.getTime() / 1000);
      const t = Math.floor(context.to.getTime() / 1000);
      return `${c} >= ${f} AND ${c} <= ${t}`;
    }
    case "__unixEpochGroup":
      return group((c, s) => `floor((${c})/${s})*${s}`);
    case "__unixEpochGroupAlias":
      return `${evaluateMacro("__unixEpochGroup", args, context)} AS "time"`;
    default:
      throw new GrafanaMacroError(`unknown macro "${name}"`);
  }
}

/** Step 2: the postgres datasource backend's macros and sqleng's plain replacements. */
export function expandMacros(sql: string, context: GrafanaQueryContext): string {
  let out = sql
    .replaceAll("$__interval_ms", String(context.intervalMs))
    .replaceAll("$__interval", formatInterval(context.intervalMs))
    .replaceAll("$__unixEpochFrom()", String(Math.floor(context.from.getTime() / 1000)))
    .replaceAll("$__unixEpochTo()", String(Math.floor(context.to.getTime() / 1000)));
  const source = out;
  out = source.replace(
    /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g,
    (whole: string, name: string, rawArgs: string, offset: number) => {
      // Compatibility kept by Grafana: `$__timeGroup(...)` directly followed by a comma (a
      // select-list item) gets the `AS "time"` alias, as before 5.3.
      const macro = name === "__timeGroup" && source[offset + whole.length] === ","
        ? "__timeGroupAlias"
        : name;
      return evaluateMacro(macro, rawArgs.split(",").map((a) => a.trim()), context);
    },
  );
  return out;
}

/** Both steps: the SQL Grafana's postgres datasource sends for a panel target. */
export function expandGrafanaSql(sql: string, context: GrafanaQueryContext): string {
  return expandMacros(interpolateVariables(sql, context), context);
}
