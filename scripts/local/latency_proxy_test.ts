import postgres from "postgres";
import { assert, assertEquals, assertRejects } from "../../tests/support/assert.ts";
import { testDatabase } from "../../tests/support/database.ts";
import { startLatencyProxy } from "./latency_proxy.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function through(proxyUrl: string) {
  return postgres(proxyUrl, {
    // One connection: a second one would run postgres.js's own set-up queries mid-count.
    max: 1,
    prepare: false,
    connect_timeout: 2,
    onnotice: () => {},
  });
}

Deno.test("latency proxy counts every query postgres.js sends, by statement", opts, async () => {
  const db = await testDatabase({ seeded: false });
  const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
  const sql = through(proxy.urlFor(db.url));
  try {
    await sql`select 1`; // connection set-up may run its own queries (type lookup)
    proxy.reset();
    for (let i = 0; i < 3; i++) await sql`select ${i}::int as n`;
    await Promise.all([sql`select 'a' as x`, sql`select 'b' as x`]);
    await sql.unsafe("select 42");
    const stats = proxy.stats();
    assertEquals(stats.queries, 6);
    assertEquals(stats.byStatement["select $1::int as n"], 3);
    assertEquals(stats.byStatement["select 'a' as x"], 1);
    assertEquals(stats.opaqueConnections, 0);
  } finally {
    await sql.end({ timeout: 1 });
    await proxy.close();
    await db.drop();
  }
});

Deno.test(
  "latency proxy counts round trips: 2 per described statement, 1 prepared or parameterless",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 1 });
    const unprepared = through(proxy.urlFor(db.url));
    const prepared = postgres(proxy.urlFor(db.url), { max: 1, prepare: true, onnotice: () => {} });
    try {
      await unprepared`select 1`;
      await prepared`select 1`;
      proxy.reset();
      // prepare: false — Parse/Describe/Flush, wait, Bind/Execute/Sync: two flights each time.
      for (let i = 0; i < 3; i++) await unprepared`select ${i}::int as unprepared`;
      // Without parameters: Parse/Describe/Bind/Execute/Sync of the unnamed statement, one flight.
      await unprepared.unsafe("select 1 as literal", [], { simple: false } as never);
      // prepare: true — two flights the first time (named Parse), then Bind/Execute/Sync only.
      for (let i = 0; i < 3; i++) await prepared`select ${i}::int as prepared`;
      const stats = proxy.stats();
      assertEquals(stats.roundTripsByStatement["select $1::int as unprepared"], 6);
      assertEquals(stats.roundTripsByStatement["select 1 as literal"], 1);
      assertEquals(stats.roundTripsByStatement["select $1::int as prepared"], 4);
      assertEquals(stats.roundTrips, 11);
      assertEquals(stats.namedParses, 1, "only the prepared statement's first Parse is named");
      assertEquals(stats.queries, 7);
    } finally {
      await unprepared.end({ timeout: 1 });
      await prepared.end({ timeout: 1 });
      await proxy.close();
      await db.drop();
    }
  },
);

Deno.test("latency proxy delays each direction by delayMs", opts, async () => {
  const db = await testDatabase({ seeded: false });
  const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
  const sql = through(proxy.urlFor(db.url));
  try {
    await sql`select 1`;
    proxy.setDelay(40);
    const started = performance.now();
    await sql`select 1`;
    const elapsed = performance.now() - started;
    // One round trip crosses the proxy twice: at least 80 ms, however fast the machine.
    assert(elapsed >= 80, `a query took ${elapsed.toFixed(1)} ms through a 40 ms proxy`);
  } finally {
    await sql.end({ timeout: 1 });
    await proxy.close();
    await db.drop();
  }
});

Deno.test("latency proxy setBlocked() cuts the database off and restores it", opts, async () => {
  const db = await testDatabase({ seeded: false });
  const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
  const sql = through(proxy.urlFor(db.url));
  try {
    await sql`select 1`;
    proxy.setBlocked(true);
    await assertRejects(() => sql`select 1`);
    proxy.setBlocked(false);
    const [row] = await sql`select 2 as n`;
    assertEquals(row?.n, 2);
  } finally {
    await sql.end({ timeout: 1 });
    await proxy.close();
    await db.drop();
  }
});

Deno.test("latency proxy CLI refuses a bad option with exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./latency_proxy.ts", import.meta.url).pathname, "--target", "x"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 2);
  assert(new TextDecoder().decode(out.stderr).includes("--target: expected host:port"));
});
