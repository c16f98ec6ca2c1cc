import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { UsageError } from "../_cli/errors.ts";
import { parseStackArgs } from "./main.ts";

Deno.test("parseStackArgs() runs one isolate of flight-search by default", () => {
  assertEquals(parseStackArgs([], {}).isolates, 1);
});

Deno.test("parseStackArgs() reads --isolates, else FLIGHT_SEARCH_ISOLATES", () => {
  assertEquals(parseStackArgs(["--isolates", "4"], {}).isolates, 4);
  assertEquals(parseStackArgs([], { FLIGHT_SEARCH_ISOLATES: "2" }).isolates, 2);
  assertEquals(parseStackArgs(["--isolates", "3"], { FLIGHT_SEARCH_ISOLATES: "2" }).isolates, 3);
});

Deno.test("parseStackArgs() rejects an isolate count that is not an integer 1..16", () => {
  for (const bad of ["0", "-1", "1.5", "17", "many", ""]) {
    assertThrows(() => parseStackArgs(["--isolates", bad], {}), UsageError, "--isolates");
  }
  assertThrows(
    () => parseStackArgs([], { FLIGHT_SEARCH_ISOLATES: "0" }),
    UsageError,
    "FLIGHT_SEARCH_ISOLATES",
  );
});
