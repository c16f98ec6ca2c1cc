import { assert, assertEquals, assertStringIncludes } from "../../tests/support/assert.ts";
import { testDatabase } from "../../tests/support/database.ts";

async function seedCli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("seed CLI exits 2 naming the bad option, before touching a database", async () => {
  // An unreachable URL: a usage error must be reported without connecting.
  const url = "postgresql://nobody@127.0.0.1:9/none";
  const cases: Array<[string[], string]> = [
    [["--flights", "many", "--db-url", url], "--flights"],
    [["--flights", "0", "--db-url", url], "--flights"],
    [["--start-date", "2027-02-30", "--db-url", url], "--start-date"],
    [["--days", "400", "--db-url", url], "--days"],
    [["--db-url", "mysql://localhost/x"], "--db-url"],
    [["--frobnicate"], "--frobnicate"],
  ];
  for (const [args, flag] of cases) {
    const { code, stderr } = await seedCli(args);
    assertEquals(code, 2, `${args.join(" ")}: ${stderr}`);
    assertStringIncludes(stderr, flag);
    assert(!stderr.includes("    at "), `stack trace printed: ${stderr}`);
  }
});

Deno.test({
  name: "seed CLI seeds the database of DATABASE_URL and refuses a second run without --replace",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await testDatabase({ seeded: false });
    try {
      const env = { DATABASE_URL: db.url };
      const first = await seedCli(["--flights", "200", "--days", "2"], env);
      assertEquals(first.code, 0, first.stderr);
      assertStringIncludes(first.stdout, "200 flights");
      const second = await seedCli(["--flights", "200", "--days", "2"], env);
      assertEquals(second.code, 1, second.stdout);
      assertStringIncludes(second.stderr, "--replace");
      const third = await seedCli(["--flights", "300", "--days", "2", "--replace", "--json"], env);
      assertEquals(third.code, 0, third.stderr);
      assertEquals(JSON.parse(third.stdout).counts.flights, 300);
    } finally {
      await db.drop();
    }
  },
});
