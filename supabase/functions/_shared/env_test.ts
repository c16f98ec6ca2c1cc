import { z } from "zod";
import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError, databaseUrl, intVar, readEnv } from "./env.ts";

Deno.test("readEnv() names a missing variable without echoing values", () => {
  const error = assertThrows(
    () => readEnv(z.object({ API_TOKEN: z.string(), PORT: intVar(80) }), { PORT: "secret-ish" }),
    ConfigError,
  );
  assertEquals(error.message.includes("API_TOKEN is not set"), true);
  assertEquals(error.message.includes("secret-ish"), false);
});

Deno.test("intVar() applies its default and rejects out-of-range values", () => {
  const schema = z.object({ N: intVar(3, { max: 10 }) });
  assertEquals(readEnv(schema, {}).N, 3);
  assertEquals(readEnv(schema, { N: "7" }).N, 7);
  assertThrows(() => readEnv(schema, { N: "11" }), ConfigError, "N:");
  assertThrows(() => readEnv(schema, { N: "abc" }), ConfigError, "N:");
});

Deno.test("databaseUrl() prefers DB_POOLER_URL over SUPABASE_DB_URL", () => {
  assertEquals(
    databaseUrl({
      DB_POOLER_URL: "postgres://pool:6543/db",
      SUPABASE_DB_URL: "postgresql://direct:5432/db",
    }),
    "postgres://pool:6543/db",
  );
  assertEquals(
    databaseUrl({ SUPABASE_DB_URL: "postgresql://direct:5432/db" }),
    "postgresql://direct:5432/db",
  );
  assertThrows(() => databaseUrl({}), ConfigError, "neither DB_POOLER_URL nor SUPABASE_DB_URL");
  assertThrows(() => databaseUrl({ SUPABASE_DB_URL: "mysql://x" }), ConfigError, "SUPABASE_DB_URL");
});
