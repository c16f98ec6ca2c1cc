import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { connectionMode } from "./connection_mode.ts";
import { ConfigError } from "./env.ts";

const direct = "postgresql://postgres:pw@db.abcdefghijklmnop.supabase.co:5432/postgres";
const pooler = "postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
const session = "postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres";

Deno.test("connectionMode() picks pooler for port 6543 and direct for SUPABASE_DB_URL", () => {
  assertEquals(connectionMode(pooler, {}), "pooler");
  assertEquals(connectionMode(direct, { SUPABASE_DB_URL: direct }), "direct");
  assertEquals(connectionMode(session, { SUPABASE_DB_URL: session }), "direct");
});

Deno.test("connectionMode() treats any DB_POOLER_URL as transaction mode", () => {
  const pgbouncer = "postgresql://u:p@127.0.0.1:6432/postgres";
  assertEquals(connectionMode(pgbouncer, { DB_POOLER_URL: pgbouncer }), "pooler");
});

Deno.test("connectionMode() honours DB_CONNECTION_MODE and rejects other values", () => {
  assertEquals(connectionMode(pooler, { DB_CONNECTION_MODE: "direct" }), "direct");
  assertEquals(connectionMode(direct, { DB_CONNECTION_MODE: "pooler" }), "pooler");
  assertEquals(connectionMode(pooler, { DB_CONNECTION_MODE: "auto" }), "pooler");
  const error = assertThrows(
    () => connectionMode(direct, { DB_CONNECTION_MODE: "session" }),
    ConfigError,
  );
  assertEquals(error.message.includes("DB_CONNECTION_MODE"), true);
});
