/**
 * The rollout end to end against real Postgres and a real local stack (for the smoke calls),
 * with the hosted environments pointed at them and a recording `supabase` stub standing in for
 * the CLI's hosted commands. The monitoring loop runs on a fake clock; the metrics it judges are
 * real rows in monitoring.function_metrics, written the way the functions flush them.
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { serverUrl, type TestDatabase, testDatabase } from "../support/database.ts";
import postgres from "postgres";
import { repoRoot } from "../../scripts/local/paths.ts";
import { type Stack, startStack } from "../../scripts/local/stack.ts";
import { loadSla } from "../../scripts/sla/sla.ts";
import { k6Tester } from "../../scripts/rollout/load_testers.ts";
import { parseRolloutArgs } from "../../scripts/rollout/options.ts";
import { invokeFunction } from "../../scripts/rollout/smoke.ts";
import { type RolloutDeps, type RolloutResult, runRollout } from "../../scripts/rollout/rollout.ts";
import { type Bounds, readBounds } from "./monitoring_fixtures.ts";
import {
  environmentsFile,
  FakeClock,
  flush,
  k6Stub,
  type PathTraffic,
  type RecordingCli,
  recordingSupabase,
  testProjectRef,
} from "./rollout_fixtures.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const flag = "flight_search_optimization";
const sla = await loadSla();
/** Comfortably above min_requests per check, so every check is judged. */
const perCheck = sla.analysis.min_requests * 5;

interface Harness {
  stack: Stack;
  cli: RecordingCli;
  dir: string;
  environmentsPath: string;
  close(): Promise<void>;
}

let shared: Promise<Harness> | undefined;

/** One stack (smoke target) and one CLI stub for the whole file. */
function harness(): Promise<Harness> {
  shared ??= (async () => {
    const base = await serverUrl();
    const name = `pf_rollout_api_${crypto.randomUUID().slice(0, 8)}`;
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    const stack = await startStack({
      databaseUrl: u.toString(),
      port: 0,
      seedFlights: false,
      functions: ["health"],
    });
    const cli = await recordingSupabase();
    const dir = await Deno.makeTempDir({ prefix: "rollout-test-" });
    const environmentsPath = await environmentsFile(dir, (config) => {
      for (const env of ["staging", "production"]) {
        config.environments[env].functions = ["flight-search", "health"];
        config.environments[env].api.url_env = `${env.toUpperCase()}_SUPABASE_URL`;
      }
      // The smoke calls go to the functions the stack serves; flight-search is deployed (stub)
      // but smoke-called only where the stack has it.
      config.smoke = { health: { method: "GET", expect_status: [200] } };
    });
    return {
      stack,
      cli,
      dir,
      environmentsPath,
      async close() {
        await stack.stop();
        await cli.remove();
        await Deno.remove(dir, { recursive: true });
      },
    };
  })();
  return shared;
}

/** Smoke-calls only the functions the stack serves (flight-search is not on this branch yet). */
function servedOnly(h: Harness): RolloutDeps["smoke"] {
  return async (target, name, request) => {
    if (!h.stack.functions.includes(name)) {
      return { name, ok: true, durationMs: 0, detail: "not served by the test stack" };
    }
    return await invokeFunction(target, name, request);
  };
}

function stagingEnv(h: Harness, db: TestDatabase): Record<string, string> {
  return {
    USER: "tester",
    STAGING_DB_URL: db.url,
    STAGING_PROJECT_REF: testProjectRef,
    STAGING_SUPABASE_URL: h.stack.url,
    STAGING_SUPABASE_ANON_KEY: h.stack.anonKey,
  };
}

interface Run {
  result: RolloutResult;
  output: string;
}

async function deploy(
  h: Harness,
  args: string[],
  env: Record<string, string>,
  deps: Partial<RolloutDeps> = {},
): Promise<Run> {
  const parsed = parseRolloutArgs(args);
  assert(parsed.kind === "rollout");
  const lines: string[] = [];
  const result = await runRollout(parsed.options, {
    print: (line) => lines.push(line),
    env,
    environmentsPath: h.environmentsPath,
    reportsDir: `${h.dir}/reports`,
    supabaseBinary: h.cli.path,
    smoke: servedOnly(h),
    ...deps,
  });
  return { result, output: lines.join("\n") };
}

/** Writes, at every tick of `clock`, one flush per path with `traffic(now)`. */
function feed(
  clock: FakeClock,
  db: TestDatabase,
  bounds: Bounds,
  traffic: (tick: number) => { optimized?: PathTraffic; legacy?: PathTraffic },
) {
  let tick = 0;
  clock.onSleep = async (now) => {
    tick++;
    // Flushed just before the check reads: inside the window that ends at `now`.
    await flush(db.sql, bounds, new Date(now - 1000), traffic(tick));
  };
}

async function flagRow(db: TestDatabase) {
  const [row] = await db.sql`select enabled, traffic_percentage, updated_by, reason
    from public.feature_flags where flag_key = ${flag}`;
  return row!;
}

Deno.test({
  name:
    "rollout to staging builds the exact CLI lines and promotes through the steps on healthy metrics",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const before = (await h.cli.calls()).length;
      const clock = new FakeClock(Date.now());
      feed(clock, db, await readBounds(db.sql), () => ({
        optimized: { requests: perCheck },
        legacy: { requests: perCheck * 3 },
      }));
      const { result, output } = await deploy(
        h,
        [
          "-e",
          "staging",
          "-t",
          "50",
          "--steps",
          "10,50",
          "--monitor",
          "30s",
          "--interval",
          "10s",
          "-s",
        ],
        stagingEnv(h, db),
        { clock },
      );
      assertEquals(result.exitCode, 0, output);
      assertEquals(result.status, "promoted");
      assertEquals(result.finalTraffic, 50);

      const calls = (await h.cli.calls()).slice(before);
      assertEquals(calls.map((c) => c.args), [
        ["db", "push", `--remote=${db.url}`, "--yes", "--workdir", repoRoot],
        [
          "functions",
          "deploy",
          "flight-search",
          "health",
          `--remote=${testProjectRef}`,
          "--use-api",
          "--yes",
          "--workdir",
          repoRoot,
        ],
      ]);
      assertEquals(calls[0]?.pgsslmode, "disable", "loopback database: no TLS");

      const row = await flagRow(db);
      assertEquals({ enabled: row.enabled, traffic: row.traffic_percentage }, {
        enabled: true,
        traffic: 50,
      });
      const history = await db.sql`select new_traffic_percentage, updated_by, reason
        from public.feature_flag_history where flag_key = ${flag} and operation = 'UPDATE' order by id`;
      assertEquals(history.map((r) => r.new_traffic_percentage), [10, 50]);
      for (const entry of history) {
        assertEquals(entry.updated_by, `tester@${Deno.hostname()}`);
        assertStringIncludes(entry.reason, result.deploymentId!);
      }
      const [deployment] = await db
        .sql`select status, from_percentage, to_percentage, steps, started_by,
        finished_at is not null as finished, jsonb_array_length(log -> 'checks') as checks
        from public.deployments where id = ${result.deploymentId!}`;
      assertEquals({ ...deployment }, {
        status: "promoted",
        from_percentage: 0,
        to_percentage: 50,
        steps: [10, 50],
        started_by: `tester@${Deno.hostname()}`,
        finished: true,
        checks: 6,
      });
      const [locks] = await db.sql`select count(*)::int as n from public.deployment_locks`;
      assertEquals(locks?.n, 0, "the lock row is gone after the deploy");
      const markdown = await Deno.readTextFile(result.reports!.markdown);
      assertStringIncludes(markdown, "Status: **promoted**");
      assertEquals(
        JSON.parse(await Deno.readTextFile(result.reports!.json)).id,
        result.deploymentId,
      );
      for (
        const phase of [
          "Phase 1/5 Database",
          "Phase 2/5 Functions",
          "Phase 3/5 Performance test skipped",
        ]
      ) {
        assertStringIncludes(output, phase);
      }
      assertStringIncludes(output, "smoke health at 10%: ok");
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout to production (linked project) passes the password only in the CLI's environment",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const before = (await h.cli.calls()).length;
      const clock = new FakeClock(Date.now());
      feed(clock, db, await readBounds(db.sql), () => ({ optimized: { requests: perCheck } }));
      const { result, output } = await deploy(
        h,
        ["-e", "production", "-t", "10", "--monitor", "10s", "--interval", "10s", "-s"],
        {
          USER: "tester",
          SUPABASE_DB_PASSWORD: "linked-secret",
          PRODUCTION_PROJECT_REF: testProjectRef,
          PRODUCTION_DB_URL: db.url,
          PRODUCTION_SUPABASE_URL: h.stack.url,
          PRODUCTION_SUPABASE_ANON_KEY: h.stack.anonKey,
        },
        { clock },
      );
      assertEquals(result.exitCode, 0, output);
      const calls = (await h.cli.calls()).slice(before);
      assertEquals(calls.map((c) => c.args), [
        ["db", "push", "--remote", "--yes", "--workdir", repoRoot],
        [
          "functions",
          "deploy",
          "flight-search",
          "health",
          `--remote=${testProjectRef}`,
          "--use-api",
          "--yes",
          "--workdir",
          repoRoot,
        ],
      ]);
      assertEquals(calls[0]?.dbPassword, "linked-secret");
      assert(!output.includes("linked-secret"), "the password is never printed");
      assert(
        !(await Deno.readTextFile(result.reports!.json)).includes("linked-secret"),
        "nor logged",
      );
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "rollout rolls back when the optimized path fails ~10% of requests: traffic 0 at once, exit 1, log says why",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const clock = new FakeClock(Date.now());
      // Healthy for the first check, then about 10% of optimized requests fail (half as 5xx,
      // half recovered by the legacy fallback); legacy stays healthy.
      const faulty = Math.round(perCheck * 0.1);
      feed(clock, db, await readBounds(db.sql), (tick) => ({
        optimized: tick === 1 ? { requests: perCheck } : {
          requests: perCheck,
          serverErrors: Math.ceil(faulty / 2),
          fallbacks: Math.floor(faulty / 2),
        },
        legacy: { requests: perCheck * 9 },
      }));
      const { result, output } = await deploy(
        h,
        ["-e", "staging", "-t", "25", "--monitor", "2m", "--interval", "10s", "-s"],
        stagingEnv(h, db),
        { clock },
      );
      assertEquals(result.exitCode, 1, output);
      assertEquals(result.status, "rolled_back");
      assertStringIncludes(result.reason!, `${sla.analysis.threshold} consecutive failed checks`);
      assertStringIncludes(result.reason!, "error_rate");
      // The rollback came right after the deciding check: no further interval was waited.
      assertEquals(clock.sleeps, 1 + sla.analysis.threshold);
      const row = await flagRow(db);
      assertEquals({ enabled: row.enabled, traffic: row.traffic_percentage }, {
        enabled: false,
        traffic: 0,
      });
      assertStringIncludes(row.reason, `deploy ${result.deploymentId}: rolled back`);
      assertStringIncludes(row.reason, "error_rate");
      const [deployment] = await db.sql`select status, reason, to_percentage from public.deployments
        where id = ${result.deploymentId!}`;
      assertEquals(deployment?.status, "rolled_back");
      assertEquals(deployment?.to_percentage, 0);
      assertStringIncludes(deployment?.reason, "error_rate");
      const markdown = await Deno.readTextFile(result.reports!.markdown);
      assertStringIncludes(markdown, "**rolled_back**");
      assertStringIncludes(markdown, "| 25% | 2 |");
      assertStringIncludes(output, "ROLLED BACK");
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout refuses a second concurrent deploy to the same environment, naming the holder",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const clock = new FakeClock(Date.now());
      let release!: () => void;
      clock.gate = new Promise((resolve) => (release = resolve));
      feed(clock, db, await readBounds(db.sql), () => ({ optimized: { requests: perCheck } }));
      const env = stagingEnv(h, db);
      const first = deploy(
        h,
        [
          "-e",
          "staging",
          "-t",
          "10",
          "--monitor",
          "10s",
          "--interval",
          "10s",
          "-s",
          "--actor",
          "alice@laptop",
        ],
        env,
        {
          clock,
        },
      );
      // Wait until the first deploy has moved the flag (it then sits in monitoring, gated).
      for (let i = 0; i < 200 && !(await flagRow(db)).enabled; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      const second = await deploy(h, ["-e", "staging", "-t", "50", "-s", "--actor", "bob@ci"], env);
      assertEquals(second.result.exitCode, 3, second.output);
      assertStringIncludes(second.output, "another deploy to staging is running");
      assertStringIncludes(second.output, "by alice@laptop since");
      release();
      clock.gate = undefined;
      const done = await first;
      assertEquals(done.result.exitCode, 0, done.output);
      assertEquals(
        (await flagRow(db)).traffic_percentage,
        10,
        "the refused deploy changed nothing",
      );
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout stops and keeps an operator's manual flag change made during monitoring",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const clock = new FakeClock(Date.now());
      const bounds = await readBounds(db.sql);
      clock.onSleep = async (now) => {
        await flush(db.sql, bounds, new Date(now - 1000), { optimized: { requests: perCheck } });
        if (clock.sleeps === 2) {
          await db.sql`update public.feature_flags set enabled = false, traffic_percentage = 0,
            updated_by = 'oncall@pager', reason = 'manual rollback' where flag_key = ${flag}`;
        }
      };
      const { result, output } = await deploy(
        h,
        ["-e", "staging", "-t", "25", "--monitor", "1m", "--interval", "10s", "-s"],
        stagingEnv(h, db),
        { clock },
      );
      assertEquals(result.exitCode, 1, output);
      assertEquals(result.status, "aborted");
      assertStringIncludes(result.reason!, "oncall@pager");
      const row = await flagRow(db);
      assertEquals({ by: row.updated_by, reason: row.reason }, {
        by: "oncall@pager",
        reason: "manual rollback",
      });
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout rolls back when interrupted (Ctrl-C) during monitoring",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      const clock = new FakeClock(Date.now());
      const controller = new AbortController();
      const bounds = await readBounds(db.sql);
      clock.onSleep = async (now) => {
        await flush(db.sql, bounds, new Date(now - 1000), { optimized: { requests: perCheck } });
        if (clock.sleeps === 1) controller.abort("interrupted (SIGINT)");
      };
      const { result, output } = await deploy(
        h,
        ["-e", "staging", "-t", "25", "--monitor", "1m", "--interval", "10s", "-s"],
        stagingEnv(h, db),
        { clock, signal: controller.signal },
      );
      assertEquals(result.exitCode, 1, output);
      assertEquals(result.status, "aborted");
      const row = await flagRow(db);
      assertEquals({ enabled: row.enabled, traffic: row.traffic_percentage }, {
        enabled: false,
        traffic: 0,
      });
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout exits 3 and moves no traffic when supabase db push fails",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    const failing = await recordingSupabase(1);
    try {
      const { result, output } = await deploy(
        h,
        ["-e", "staging", "-t", "25", "-s"],
        stagingEnv(h, db),
        {
          supabaseBinary: failing.path,
        },
      );
      assertEquals(result.exitCode, 3, output);
      assertEquals(result.status, "failed");
      assertStringIncludes(result.reason!, "supabase db push failed (exit 1)");
      assertEquals((await failing.calls()).length, 1, "nothing after the failed push");
      assertEquals((await flagRow(db)).enabled, false);
    } finally {
      await failing.remove();
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout rolls back when the load test fails, and continues past it with --force",
  ...opts,
  async fn() {
    const h = await harness();
    // Seeded: the k6 tester passes k6 the busiest routes of the target's database.
    const db = await testDatabase();
    const k6 = await k6Stub(99, 0.3);
    try {
      const clock = new FakeClock(Date.now());
      feed(clock, db, await readBounds(db.sql), () => ({ optimized: { requests: perCheck } }));
      const args = ["-e", "staging", "-t", "25", "--monitor", "10s", "--interval", "10s"];
      const failed = await deploy(h, args, stagingEnv(h, db), {
        clock,
        performanceTest: k6Tester(k6.path, { reportsDir: h.dir }),
      });
      assertEquals(failed.result.exitCode, 1, failed.output);
      assertStringIncludes(failed.result.reason!, "load test failed: k6 thresholds");
      assertEquals((await flagRow(db)).traffic_percentage, 0);
      assertEquals(clock.sleeps, 0, "no monitoring after a failed load test");

      const forced = await deploy(h, [...args, "--force"], stagingEnv(h, db), {
        clock,
        performanceTest: k6Tester(k6.path, { reportsDir: h.dir }),
      });
      assertEquals(forced.result.exitCode, 0, forced.output);
      assertStringIncludes(forced.output, "continuing because of --force");
      assertEquals((await flagRow(db)).traffic_percentage, 25);
    } finally {
      await k6.remove();
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "rollout: a function that does not answer before the flag moves is a precondition (exit 3); after, a rollback (exit 1)",
  ...opts,
  async fn() {
    const h = await harness();
    const db = await testDatabase({ seeded: false });
    try {
      // flight-search is not served by this stack: the real call answers 404 before any traffic moves.
      const before = await deploy(h, ["-e", "staging", "-t", "25", "-s"], stagingEnv(h, db), {
        smoke: invokeFunction,
      });
      assertEquals(before.result.exitCode, 3, before.output);
      assertStringIncludes(
        before.result.reason!,
        "smoke test failed before traffic moved: flight-search: HTTP 404",
      );
      assertEquals((await flagRow(db)).enabled, false);

      // Healthy before the flag moves, then the second round reaches a function that is gone.
      let calls = 0;
      const served = servedOnly(h)!;
      const after = await deploy(h, ["-e", "staging", "-t", "25", "-s"], stagingEnv(h, db), {
        smoke: (target, name, request) => {
          calls++;
          return calls <= 2
            ? served(target, name, request)
            : invokeFunction(target, `${name}-gone`, request);
        },
      });
      assertEquals(after.result.exitCode, 1, after.output);
      assertStringIncludes(after.result.reason!, "smoke test failed: flight-search: HTTP 404");
      const row = await flagRow(db);
      assertEquals({ enabled: row.enabled, traffic: row.traffic_percentage }, {
        enabled: false,
        traffic: 0,
      });
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "rollout teardown",
  ...opts,
  async fn() {
    if (shared) await (await shared).close();
  },
});
