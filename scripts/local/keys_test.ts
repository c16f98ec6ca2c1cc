import { assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { apiKeys } from "./keys.ts";

Deno.test("apiKeys() with the default secret reproduces Supabase's well-known local keys", async () => {
  const keys = await apiKeys();
  // The anon key printed by `supabase status` for every local Supabase project.
  assertEquals(
    keys.anonKey,
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0",
  );
});

Deno.test("apiKeys() refuses a secret shorter than 32 characters", async () => {
  await assertRejects(() => apiKeys("short"), RangeError);
});
