import { assertEquals, assertStringIncludes, assertThrows } from "../../tests/support/assert.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import type { FlagState } from "../../supabase/functions/_shared/rollout_flag.ts";
import {
  diffFlags,
  fileSide,
  formatDiff,
  formatTrafficRouting,
  parseTrafficRouting,
  tableSide,
} from "./traffic_routing.ts";

const flag = (flagKey: string, enabled: boolean, trafficPercentage: number): FlagState => ({
  flagKey,
  enabled,
  trafficPercentage,
  updatedAt: new Date(0),
  updatedBy: "ops@host",
  reason: "why",
});

Deno.test("parseTrafficRouting() accepts the guide's manual rollback line", () => {
  const file = parseTrafficRouting(
    '{"flight_search_optimization":{"enabled":false,"traffic_percentage":0}}',
    "f.json",
  );
  assertEquals(file, { flight_search_optimization: { enabled: false, traffic_percentage: 0 } });
});

Deno.test("parseTrafficRouting() names the field of a mistake", () => {
  const cases: [string, string][] = [
    [
      '{"flight_search_optimization":{"enabled":"no","traffic_percentage":0}}',
      "flight_search_optimization.enabled",
    ],
    [
      '{"flight_search_optimization":{"enabled":true,"traffic_percentage":101}}',
      "traffic_percentage",
    ],
    ['{"flight_search_optimization":{"enabled":true,"traffic_percentage":5,"extra":1}}', "extra"],
    ['{"Bad-Key":{"enabled":true,"traffic_percentage":5}}', "Bad-Key"],
    ["[", "not valid JSON"],
  ];
  for (const [text, expected] of cases) {
    const error = assertThrows(() => parseTrafficRouting(text, "f.json"), ConfigError);
    assertStringIncludes(error.message, expected);
  }
});

Deno.test("formatTrafficRouting() is canonical and parses back to the same state", () => {
  const flags = [flag("zeta_flag", false, 0), flag("flight_search_optimization", true, 25)];
  const text = formatTrafficRouting(flags);
  assertEquals(Object.keys(JSON.parse(text)), ["flight_search_optimization", "zeta_flag"]);
  assertEquals(text.endsWith("}\n"), true);
  assertEquals(diffFlags(fileSide(parseTrafficRouting(text, "f")), tableSide(flags)), []);
});

Deno.test("diffFlags() lists changes and one-sided flags; formatDiff() names both sides", () => {
  const diff = diffFlags(
    {
      a_flag: { enabled: true, trafficPercentage: 50 },
      new_flag: { enabled: false, trafficPercentage: 0 },
    },
    {
      a_flag: { enabled: true, trafficPercentage: 10 },
      old_flag: { enabled: true, trafficPercentage: 1 },
    },
  );
  assertEquals(diff.map((d) => [d.flagKey, d.kind]), [
    ["a_flag", "change"],
    ["new_flag", "only_in_source"],
    ["old_flag", "only_in_target"],
  ]);
  assertEquals(formatDiff(diff, "file", "table"), [
    "~ a_flag: table enabled 10% → enabled 50% (from file)",
    "+ new_flag: disabled 0% is in file only",
    "- old_flag: enabled 1% is in table only",
  ]);
});
