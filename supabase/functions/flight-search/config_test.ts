import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import { searchConfig } from "./config.ts";

Deno.test("searchConfig() injects no faults by default", () => {
  assertEquals(searchConfig({}).faultRate, 0);
});

Deno.test("searchConfig() reads FLIGHT_SEARCH_FAULT_RATE as a share 0..1", () => {
  assertEquals(searchConfig({ FLIGHT_SEARCH_FAULT_RATE: "0.1" }).faultRate, 0.1);
  assertEquals(searchConfig({ FLIGHT_SEARCH_FAULT_RATE: "1" }).faultRate, 1);
  for (const bad of ["1.5", "-0.1", "ten percent"]) {
    assertThrows(
      () => searchConfig({ FLIGHT_SEARCH_FAULT_RATE: bad }),
      ConfigError,
      "FLIGHT_SEARCH_FAULT_RATE",
    );
  }
});

Deno.test("searchConfig() budgets: defaults, and the batch timeout follows the search budget", () => {
  const defaults = searchConfig({});
  assertEquals(defaults.budgets, { searchMs: 3000, warmMs: 30_000, fallbackMinMs: 500 });
  assertEquals(defaults.coalescing.batchTimeoutMs, 3000);
  const tuned = searchConfig({
    FLIGHT_SEARCH_BUDGET_MS: "2000",
    COALESCE_BATCH_TIMEOUT_MS: "1500",
  });
  assertEquals([tuned.budgets.searchMs, tuned.coalescing.batchTimeoutMs], [2000, 1500]);
  assertEquals(searchConfig({ FLIGHT_SEARCH_BUDGET_MS: "2500" }).coalescing.batchTimeoutMs, 2500);
  assertThrows(() => searchConfig({ FLIGHT_SEARCH_BUDGET_MS: "0" }), ConfigError);
});
