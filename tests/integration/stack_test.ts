import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import { SignJWT } from "jose";
import { MigrationError } from "../../scripts/local/migrate.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { PortInUseError } from "../../scripts/local/ports.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { serverUrl } from "../support/database.ts";
import postgres from "postgres";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function freshDatabaseUrl(): Promise<string> {
  const base = await serverUrl();
  const name = `pf_stack_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

Deno.test(
  "startStack() serves health through the JWT-verifying gateway backed by Postgres",
  opts,
  async () => {
    const stack = await startStack({
      databaseUrl: await freshDatabaseUrl(),
      port: 0,
      seedFlights: 200,
      functions: ["health"],
    });
    try {
      const health = `${stack.functionsUrl}/health`;
      const noKey = await fetch(health);
      assertEquals(noKey.status, 401);
      assertEquals((await noKey.json()).error.code, "unauthorized");

      const forged = await new SignJWT({ role: "service_role" })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret"));
      const forgedRes = await fetch(health, { headers: { authorization: `Bearer ${forged}` } });
      assertEquals(forgedRes.status, 401);
      await forgedRes.body?.cancel();

      const ok = await fetch(health, { headers: { authorization: `Bearer ${stack.anonKey}` } });
      assertEquals(ok.status, 200);
      const body = await ok.json();
      assertEquals(body.status, "ok");
      assertEquals(body.checks.database.status, "up");

      const missing = await fetch(`${stack.functionsUrl}/nope`, {
        headers: { authorization: `Bearer ${stack.anonKey}` },
      });
      assertEquals(missing.status, 404);
      await missing.body?.cancel();

      // Module state survives between requests: the isolate is one long-lived process.
      const pid = stack.functionProcess("health")?.pid;
      await (await fetch(health, { headers: { authorization: `Bearer ${stack.anonKey}` } })).body
        ?.cancel();
      assertEquals(stack.functionProcess("health")?.pid, pid);

      // Seeded once: a second start on the same database does not seed again.
      const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql`select count(*)::int as n from public.flights`;
        assertEquals(row?.n, 200);
      } finally {
        await sql.end();
      }
    } finally {
      await stack.stop();
    }
  },
);

Deno.test(
  "startStack() refuses a taken gateway port with a message naming the port",
  opts,
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    try {
      const error = await assertRejects(
        () => startStack({ port, seedFlights: false }),
        PortInUseError,
      );
      assertStringIncludes(error.message, `port ${port} (API gateway) is already in use`);
    } finally {
      listener.close();
    }
  },
);

Deno.test(
  "startStack() stops with the CLI's error on a broken migration and leaves nothing running",
  opts,
  async () => {
    const workdir = await Deno.makeTempDir({ prefix: "pf-broken-stack-" });
    try {
      await Deno.mkdir(`${workdir}/supabase/migrations`, { recursive: true });
      await Deno.mkdir(`${workdir}/supabase/functions`, { recursive: true });
      await Deno.writeTextFile(`${workdir}/supabase/config.toml`, 'project_id = "broken"\n');
      await Deno.writeTextFile(
        `${workdir}/supabase/migrations/20990101000000_broken.sql`,
        "create tabel oops;\n",
      );
      const dataDir = `${workdir}/pg`;
      const error = await assertRejects(
        () =>
          startStack({ workdir, dataDir, dbPort: 0, port: 0, ephemeral: true, seedFlights: false }),
        MigrationError,
      );
      assertStringIncludes(error.message, 'syntax error at or near "tabel"');
      // The embedded server was stopped: its pid file is gone.
      await assertRejects(() => Deno.stat(`${dataDir}/postmaster.pid`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(workdir, { recursive: true });
    }
  },
);

Deno.test(
  "stack CLI: a bad option exits 2 and a taken port exits 3 with a clear message",
  opts,
  async () => {
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          `${repoRoot}/deno.json`,
          `${repoRoot}/scripts/local/main.ts`,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { DATABASE_URL: "", SUPABASE_DB_URL: "" },
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const bad = await run(["--port", "seventy"]);
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.stderr, "--port");
    const unknown = await run(["--bogus"]);
    assertEquals(unknown.code, 2);
    assertStringIncludes(unknown.stderr, "bogus");

    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    try {
      const taken = await run(["--port", String(port), "--once"]);
      assertEquals(taken.code, 3);
      assertStringIncludes(taken.stderr, `port ${port}`);
      assert(!taken.stderr.includes("    at "), `no stack trace expected:\n${taken.stderr}`);
    } finally {
      listener.close();
    }
  },
);
