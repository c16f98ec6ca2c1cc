import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import {
  expandGrafanaSql,
  formatInterval,
  GrafanaMacroError,
  type GrafanaQueryContext,
  interpolateVariables,
  parseInterval,
  rfc3339Nano,
} from "./grafana_sql.ts";

const context: GrafanaQueryContext = {
  from: new Date("2018-04-12T18:00:00Z"),
  to: new Date("2018-04-12T18:05:00.250Z"),
  intervalMs: 300_000,
  variables: {
    function: { value: "flight-search" },
    path: { value: ["legacy", "optimized"], multi: true },
    quoted: { value: "o'brien" },
    one: { value: ["legacy"], multi: true },
  },
};

Deno.test("expandGrafanaSql() expands time macros as Grafana's postgres datasource does", () => {
  const cases: [string, string][] = [
    ["$__time(t)", 't AS "time"'],
    ["$__timeEpoch(t)", 'extract(epoch from t) as "time"'],
    ["$__timeFilter(t)", "t BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00.25Z'"],
    ["$__timeFrom()", "'2018-04-12T18:00:00Z'"],
    ["$__timeTo()", "'2018-04-12T18:05:00.25Z'"],
    ["$__timeGroup(t, '5m')", "floor(extract(epoch from t)/300)*300"],
    ["$__timeGroupAlias(t, $__interval)", 'floor(extract(epoch from t)/300)*300 AS "time"'],
    [
      "select $__timeGroup(t,'1h'), v",
      'select floor(extract(epoch from t)/3600)*3600 AS "time", v',
    ],
    ["$__unixEpochFilter(e)", "e >= 1523556000 AND e <= 1523556300"],
    ["$__unixEpochGroupAlias(e, '1m')", 'floor((e)/60)*60 AS "time"'],
    ["$__unixEpochFrom() $__unixEpochTo()", "1523556000 1523556300"],
    ["$__interval_ms / $__interval", "300000 / 5m"],
  ];
  for (const [sql, expected] of cases) assertEquals(expandGrafanaSql(sql, context), expected, sql);
});

Deno.test("interpolateVariables() quotes multi-value variables and escapes single ones", () => {
  assertEquals(
    interpolateVariables("f = '$function' and path in ($path)", context),
    "f = 'flight-search' and path in ('legacy','optimized')",
  );
  assertEquals(interpolateVariables("'$quoted'", context), "'o''brien'");
  assertEquals(interpolateVariables("in ($one)", context), "in ('legacy')");
  assertEquals(
    interpolateVariables("${path:csv} [[function]]", context),
    "legacy,optimized flight-search",
  );
  assertEquals(interpolateVariables("${path:sqlstring}", context), "'legacy','optimized'");
  assertEquals(interpolateVariables("$unknown stays", context), "$unknown stays");
  assertEquals(interpolateVariables("$__from-$__to", context), "1523556000000-1523556300250");
});

Deno.test("expandGrafanaSql() refuses unknown macros, bad intervals and formats", () => {
  assertThrows(() => expandGrafanaSql("$__nope(x)", context), GrafanaMacroError, "unknown macro");
  assertThrows(() => expandGrafanaSql("$__timeGroup(t)", context), GrafanaMacroError, "needs");
  assertThrows(() => expandGrafanaSql("$__timeGroup(t, 'soon')", context), GrafanaMacroError);
  assertThrows(() => expandGrafanaSql("${path:json}", context), GrafanaMacroError, "format");
});

Deno.test("formatInterval() and parseInterval() use Grafana's units", () => {
  assertEquals([formatInterval(60_000), formatInterval(90_000), formatInterval(7_200_000)], [
    "1m",
    "1m",
    "2h",
  ]);
  assertEquals([formatInterval(500), formatInterval(0)], ["500ms", "1ms"]);
  assertEquals([parseInterval("5m"), parseInterval("1d"), parseInterval("30s")], [
    300_000,
    86_400_000,
    30_000,
  ]);
});

Deno.test("rfc3339Nano() trims trailing zeros of the fraction like Go", () => {
  assertEquals(rfc3339Nano(new Date("2026-01-02T03:04:05.000Z")), "2026-01-02T03:04:05Z");
  assertEquals(rfc3339Nano(new Date("2026-01-02T03:04:05.120Z")), "2026-01-02T03:04:05.12Z");
});
