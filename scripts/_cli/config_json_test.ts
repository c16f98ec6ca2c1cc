import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { z } from "zod";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { parseConfigJson } from "./config_json.ts";

const schema = z.strictObject({ steps: z.array(z.number().int()) });

Deno.test("parseConfigJson() parses and validates, naming the file and field of a mistake", () => {
  assertEquals(parseConfigJson(schema, '{"steps":[10,50]}', "f.json"), { steps: [10, 50] });
  assertThrows(
    () => parseConfigJson(schema, "{", "f.json"),
    ConfigError,
    "f.json is not valid JSON",
  );
  assertThrows(
    () => parseConfigJson(schema, '{"steps":["x"]}', "f.json"),
    ConfigError,
    "f.json: steps.0: ",
  );
  assertThrows(() => parseConfigJson(schema, "[]", "f.json"), ConfigError, "f.json: (root): ");
});
