import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { z } from "zod";
import {
  camelKeys,
  optionName,
  parseCommandLine,
  validateOption,
  validateOptions,
} from "./args.ts";
import { UsageError } from "./errors.ts";

const spec = { strings: ["port"], switches: ["once"], short: { port: "p" } };

Deno.test("parseCommandLine() reads options; the last of a repeated one wins unless once", () => {
  assertEquals(parseCommandLine(["-p", "1", "--once", "-h"], spec), {
    values: { port: "1", once: true, help: true },
    positionals: [],
  });
  assertEquals(parseCommandLine(["--port", "1", "--port", "2"], spec).values.port, "2");
  const error = assertThrows(
    () => parseCommandLine(["--port", "1", "--port", "2"], spec, { once: true }),
    UsageError,
    "--port was given 2 times",
  );
  assertEquals(error.option, "--port");
});

Deno.test("parseCommandLine() refuses unknown options, missing values and unwanted positionals", () => {
  assertThrows(() => parseCommandLine(["--bogus"], spec), UsageError, "Unknown option '--bogus'");
  assertThrows(() => parseCommandLine(["--port"], spec), UsageError, "argument missing");
  assertThrows(() => parseCommandLine(["extra"], spec), UsageError, "Unexpected argument 'extra'");
  assertEquals(parseCommandLine(["get", "x"], spec, { positionals: true }).positionals, [
    "get",
    "x",
  ]);
});

Deno.test("camelKeys() keys the values like a schema, leaving out absent ones", () => {
  assertEquals(camelKeys({ "seed-flights": "5", once: true, port: undefined }), {
    seedFlights: "5",
    once: true,
  });
});

Deno.test("optionName() turns a schema key into its option", () => {
  assertEquals(optionName("seedFlights"), "--seed-flights");
  assertEquals(optionName("dry-run"), "--dry-run");
  assertEquals(optionName("port"), "--port");
});

const schema = z.object({
  seedFlights: z.coerce.number().int().min(0),
  traffic: z.string().regex(/^\d+$/, "--traffic expects an integer").optional(),
});

Deno.test("validateOptions() names the option of the first issue, once", () => {
  assertEquals(validateOptions(schema, { seedFlights: "3" }), { seedFlights: 3 });
  const prefixed = assertThrows(
    () => validateOptions(schema, { seedFlights: "-1" }),
    UsageError,
    "--seed-flights: ",
  );
  assertEquals(prefixed.option, "--seed-flights");
  const named = assertThrows(
    () => validateOptions(schema, { seedFlights: "1", traffic: "x" }),
    UsageError,
  );
  assertEquals(named.message, "--traffic expects an integer");
  assertThrows(
    () => validateOptions(schema, { seedFlights: "x" }, { seedFlights: "--seed-flights (or N)" }),
    UsageError,
    "--seed-flights (or N): ",
  );
});

Deno.test("validateOption() validates one value and names its option", () => {
  assertEquals(validateOption(z.string().min(1), "a", "--file"), "a");
  assertThrows(
    () => validateOption(z.string().min(3, "too short"), "a", "<flag>"),
    UsageError,
    "<flag>: too short",
  );
});
