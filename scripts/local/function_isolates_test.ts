import { assertThrows } from "../../tests/support/assert.ts";
import { checkIsolateCounts, maxIsolates } from "./function_isolates.ts";

Deno.test("checkIsolateCounts() accepts 1..maxIsolates for a served function", () => {
  checkIsolateCounts({ "flight-search": 1 }, ["flight-search", "health"]);
  checkIsolateCounts({ "flight-search": maxIsolates, health: 2 }, ["flight-search", "health"]);
  checkIsolateCounts({}, []);
  checkIsolateCounts({ anything: 3 }); // names unchecked without the served list
});

Deno.test("checkIsolateCounts() names the function with a bad count or that is not served", () => {
  for (const bad of [0, -1, 1.5, maxIsolates + 1, NaN]) {
    assertThrows(
      () => checkIsolateCounts({ "flight-search": bad }, ["flight-search"]),
      RangeError,
      "isolates of flight-search",
    );
  }
  assertThrows(
    () => checkIsolateCounts({ "flight-serch": 2 }, ["flight-search"]),
    RangeError,
    "flight-serch",
  );
});
