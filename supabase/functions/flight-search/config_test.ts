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
