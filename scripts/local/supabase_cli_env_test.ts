import { assertEquals } from "../../tests/support/assert.ts";
import { isLoopback, supabaseCliEnv } from "./supabase_cli_env.ts";

Deno.test("supabaseCliEnv() turns telemetry off, and TLS for loopback databases only", () => {
  assertEquals(supabaseCliEnv(), { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" });
  assertEquals(
    supabaseCliEnv("postgresql://postgres@127.0.0.1:54322/postgres").PGSSLMODE,
    "disable",
  );
  assertEquals(
    supabaseCliEnv("postgresql://postgres@db.example.supabase.co:5432/postgres").PGSSLMODE,
    undefined,
  );
  assertEquals(isLoopback("postgresql://u@localhost/x"), true);
  assertEquals(isLoopback("postgresql://u@[::1]:5432/x"), true);
  assertEquals(isLoopback("not a url"), false);
});
