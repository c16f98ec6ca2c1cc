/**
 * flight-search under dependency faults, end to end: the gateway, the function in its own isolate
 * (a Deno process), an embedded Postgres 17 of this test's own (so it can be frozen and killed),
 * and a redis-server of its own behind the Upstash bridge.
 *
 * - Postgres frozen (SIGSTOP on the postmaster and every child) while searches are in flight:
 *   every search answers within the budget plus a margin — 503 with Retry-After naming the
 *   database, or 200 from the cache — never 500; the breaker opens, then answers in well under
 *   50 ms; after SIGCONT it closes again.
 * - Postgres killed (SIGKILL): 503, never 500; after a restart (done here: supervision is the
 *   stack's job elsewhere) searches answer 200 again without restarting the function.
 * - Redis frozen: searches keep answering 200 (L1, then the database).
 */
import postgres from "postgres";
import {
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from "../../scripts/local/embedded_postgres.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { startRedis } from "../../scripts/local/redis.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { type Answer, burst, statusHistogram, waitFor } from "../../scripts/bench/fault_probe.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { alive, processTree, signalAll } from "../support/processes.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
/** flight-search's default budget, and what the test allows on top for the gateway and the OS. */
const budgetMs = 3000;
const marginMs = 1000;

function assertFaultAnswers(what: string, answers: Answer[], cached: Set<number> = new Set()) {
  const histogram = JSON.stringify(statusHistogram(answers));
  answers.forEach((a, i) => {
    assert(a.status !== 500 && a.status !== 0, `${what}: no 500, no hang (${histogram})`);
    assert(a.ms < budgetMs + marginMs, `${what}: answered in ${a.ms.toFixed(0)} ms`);
    if (cached.has(i)) {
      assertEquals([a.status, a.cache], [200, "l1"], `${what}: a cached search is served`);
    } else {
      assertEquals([a.status, a.code], [503, "database_unavailable"], `${what} (${histogram})`);
      assert(Number(a.retryAfter) >= 1, `${what}: Retry-After`);
    }
  });
}

Deno.test(
  "faults: flight-search under a frozen, a killed Postgres and a frozen Redis",
  opts,
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "pf-faults-" });
    const dbPort = freePort();
    const startPg = () =>
      startEmbeddedPostgres({ dataDir: `${dir}/pg`, port: dbPort, ephemeral: true });
    let pg: EmbeddedPostgres = await startPg();
    const redis = await startRedis({ env: {} });
    const functionLog: string[] = [];
    // The stack uses the Redis of REDIS_URL instead of starting its own: this test's, to freeze.
    // Restored as soon as the stack has started: test files share this process's environment.
    const previousRedisUrl = Deno.env.get("REDIS_URL");
    Deno.env.set("REDIS_URL", redis.url);
    const stack = await startStack({
      databaseUrl: pg.url,
      port: 0,
      seedFlights: 1500,
      functions: ["flight-search"],
      kms: false,
      env: { FLIGHT_SEARCH_FORCE_PATH: "optimized" },
      onFunctionLog: (_name, line) => {
        functionLog.push(line);
        if (functionLog.length > 200) functionLog.shift();
      },
    }).catch(async (error) => {
      await redis.stop();
      await pg.stop();
      throw error;
    }).finally(() => {
      if (previousRedisUrl === undefined) Deno.env.delete("REDIS_URL");
      else Deno.env.set("REDIS_URL", previousRedisUrl);
    });
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const routes = await popularRoutes(admin, 40);
    await admin.end();
    const headers = { authorization: `Bearer ${stack.anonKey}` };
    const base = `${stack.functionsUrl}/flight-search`;
    let variant = 0;
    /** A search nobody asked before: a cache miss. */
    const fresh = () => {
      const r = routes[variant % routes.length]!;
      const passengers = 1 + (Math.floor(variant++ / routes.length) % 9);
      return `${base}?origin=${r.origin}&destination=${r.destination}&departure_date=${r.departureDate}&passengers=${passengers}&cabin=business`;
    };
    const cachedUrl = `${base}?origin=${routes[0]!.origin}&destination=${
      routes[0]!.destination
    }&departure_date=${routes[0]!.departureDate}`;
    const breaker = async () => {
      const res = await fetch(`${base}/stats`, {
        headers: { authorization: `Bearer ${stack.serviceRoleKey}` },
      });
      return (await res.json()).breakers?.database?.state as string | undefined;
    };
    const searchOk = async () => (await burst([fresh()], headers, 10_000))[0]!.status === 200;

    try {
      assertEquals((await burst([cachedUrl], headers, 10_000))[0]!.status, 200);
      assertEquals((await burst([fresh()], headers, 10_000))[0]!.status, 200);

      await t.step(
        "Postgres frozen: 503 or cached 200 within the budget; the breaker opens and closes",
        async () => {
          const frozen = processTree(pg.pid);
          assert(frozen.length > 1, "the postmaster has children");
          signalAll(frozen, "SIGSTOP");
          try {
            const urls = [...Array.from({ length: 20 }, fresh), ...Array(5).fill(cachedUrl)];
            const answers = await burst(urls, headers, 15_000);
            assertFaultAnswers("frozen", answers, new Set([20, 21, 22, 23, 24]));
            assertEquals(await breaker(), "open");
            const fast = await burst(Array.from({ length: 5 }, fresh), headers, 15_000);
            assertFaultAnswers("breaker open", fast);
            // No wait on the database: a miss costs an L1 and a bounded L2 look-up (the bench
            // measures the figure; on a shared 2-core box the bound here is generous).
            for (const a of fast) {
              assert(a.serverMs! < 300, `open breaker: ${a.serverMs} ms in the function`);
            }
            console.log(
              `frozen: p100 ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms; open breaker ` +
                `in the function: ${fast.map((a) => a.serverMs?.toFixed(1)).join(", ")} ms`,
            );
          } finally {
            signalAll(frozen, "SIGCONT");
          }
          const recoveredMs = await waitFor(searchOk, 20_000, 250);
          assert(recoveredMs !== null, "searches answer 200 again after SIGCONT");
          assertEquals(await breaker(), "closed");
        },
      );

      await t.step(
        "Postgres killed: 503, never 500; 200 again after a restart, function untouched",
        async () => {
          const killed = processTree(pg.pid);
          const killedAt = performance.now();
          signalAll(killed, "SIGKILL");
          assert(
            await waitFor(() => Promise.resolve(killed.every((p) => !alive(p))), 10_000) !== null,
          );
          const answers = await burst(Array.from({ length: 20 }, fresh), headers, 15_000);
          assertFaultAnswers("killed", answers);
          pg = await startPg();
          const recovered = await waitFor(searchOk, 30_000, 250);
          assert(recovered !== null, "searches answer 200 again after the restart");
          const sinceKill = performance.now() - killedAt;
          console.log(`killed: 200 again ${sinceKill.toFixed(0)} ms after the kill`);
          assert(sinceKill < 30_000, `200 again ${sinceKill.toFixed(0)} ms after the kill`);
        },
      );

      await t.step(
        "Redis frozen: searches keep answering 200 (L1, then the database)",
        async () => {
          assert(redis.pid !== undefined, "this test's own redis-server");
          signalAll([redis.pid!], "SIGSTOP");
          try {
            const urls = [...Array(5).fill(cachedUrl), ...Array.from({ length: 10 }, fresh)];
            const answers = await burst(urls, headers, 15_000);
            for (const a of answers) {
              assertEquals(a.status, 200, JSON.stringify(statusHistogram(answers)));
              assert(a.ms < budgetMs + marginMs, `answered in ${a.ms.toFixed(0)} ms`);
            }
          } finally {
            signalAll([redis.pid!], "SIGCONT");
          }
        },
      );
    } finally {
      if (Deno.env.get("FAULTS_DEBUG")) {
        console.error(`function log tail:\n${functionLog.slice(-80).join("\n")}`);
      }
      await stack.stop();
      await redis.stop();
      await pg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
