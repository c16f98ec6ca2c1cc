/**
 * The local stack's process lifecycle with real processes, started as `npm run stack` starts it
 * (`deno task stack`, embedded Postgres, its state in a temporary folder):
 *
 * 1. Postgres, Redis and a function isolate SIGKILLed → the stack restarts each, stack.json
 *    follows the new pids, and a search that misses the cache answers 200 again.
 * 2. The stack's own process SIGKILLed → within 5 s none of its children runs and its ports are
 *    free.
 * 3. A Postgres left running on the state folder (and the dead stack's stack.json) → the next
 *    start says what it found, stops it, and serves.
 * 4. Ctrl-C to the process group, as a terminal sends it, with Postgres frozen (SIGSTOP) as a
 *    fault test leaves it → every process stopped within the bound, the state file and the Redis
 *    folders removed.
 */
import { maxLimit } from "../../supabase/functions/flight-search/request.ts";
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import postgres from "postgres";
import { binDir } from "../../scripts/local/embedded_postgres.ts";
import { childPids, processAlive } from "../../scripts/local/child_process.ts";
import { stopBoundMs } from "../../scripts/local/main.ts";
import { ownerFile } from "../../scripts/local/owned_temp_dir.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { popularRoutes } from "../../scripts/seed/seed.ts";

const opts = { sanitizeResources: false, sanitizeOps: false, ignore: Deno.build.os !== "linux" };

interface StackState {
  pid: number;
  functionsUrl: string;
  anonKey: string;
  dbUrl: string;
  children: { postgres?: number; redis?: number; functions: Record<string, number[]> };
  restarts: { postgres: number; redis: number; functions: Record<string, number> };
}

/** Processes whose environment holds `marker` (every process the stack starts inherits it). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/environ`).includes(marker)) {
        found.push(Number(entry.name));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found.filter(processAlive);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
  const started = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return { value, ms: Date.now() - started };
    assert(Date.now() - started < timeoutMs, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch {
    return true;
  }
}

/** A `deno task stack` in a process group of its own, its output collected. */
function startStackCli(stateDir: string, port: number, dbPort: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "stack", "--port", `${port}`, "--db-port", `${dbPort}`, "--seed-flights", "300"],
    cwd: repoRoot,
    detached: true,
    env: {
      DENO_NO_PACKAGE_JSON: "1",
      NO_COLOR: "1",
      DATABASE_URL: "",
      SUPABASE_DB_URL: "",
      STACK_STATE_DIR: stateDir,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    child,
    output: () => output,
    drained,
    async ready(): Promise<StackState> {
      await until("the stack serves", 180_000, () => {
        assert(!/\berror: /.test(output), `the stack failed:\n${output}`);
        return Promise.resolve(output.includes("Serving until Ctrl-C.") ? true : undefined);
      });
      return readState(stateDir);
    },
  };
}

function readState(stateDir: string): Promise<StackState> {
  return Deno.readTextFile(`${stateDir}/stack.json`).then(JSON.parse);
}

/**
 * A Postgres on `dataDir` whose parent is gone: what a stack killed before children had a
 * lifeline left behind.
 */
async function orphanPostgres(dataDir: string, port: number): Promise<void> {
  const uid = Number(new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-u", "postgres"], stdout: "piped" }).output()).stdout,
  ));
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      '"$0" -D "$1" -c port="$2" -c listen_addresses=127.0.0.1 -c unix_socket_directories= ' +
      "-c shared_preload_libraries=pg_stat_statements >/dev/null 2>&1 &",
      `${binDir()}/postgres`,
      dataDir,
      `${port}`,
    ],
    ...(Deno.uid() === 0 ? { uid, gid: uid } : {}),
  }).output();
  assert(out.success);
  await until(
    "the orphan Postgres accepts connections",
    30_000,
    async () => (await refused(port)) ? undefined : true,
  );
}

Deno.test("local stack: supervision, SIGKILL, crash leftovers, bounded Ctrl-C", opts, async (t) => {
  const stateDir = await Deno.makeTempDir({ prefix: "pf_lifecycle_" });
  const port = freePort();
  const dbPort = freePort();
  let stack = startStackCli(stateDir, port, dbPort);
  const stackPids = new Set<number>();
  try {
    let state = await stack.ready();
    stackPids.add(state.pid);
    const auth = { authorization: `Bearer ${state.anonKey}` };
    const sql = postgres(state.dbUrl, { max: 1, onnotice: () => {} });
    const [route] = await popularRoutes(sql, 1);
    await sql.end();
    let limit = 0;
    /**
     * A search no earlier one cached (the next limit each time, cycling through 1..maxLimit: a
     * failed search is never cached, and polling through an outage must not run past the largest
     * valid limit, which answers 400): it needs the database.
     */
    const missingSearch = async () => {
      limit = (limit % maxLimit) + 1;
      const res = await fetch(
        `${state.functionsUrl}/flight-search?origin=${route!.origin}&destination=${
          route!.destination
        }&departure_date=${route!.departureDate}&limit=${limit}`,
        { headers: auth },
      );
      await res.body?.cancel();
      return res.status === 200 && res.headers.get("x-cache") === "miss" ? true : undefined;
    };
    assert(await missingSearch(), "a search answers before any fault");

    await t.step("Postgres SIGKILLed: restarted, a search answers 200 within 30 s", async () => {
      const killed = state.children.postgres!;
      Deno.kill(killed, "SIGKILL");
      const { ms } = await until("a cache-missing search answers 200", 30_000, missingSearch);
      state = (await until("stack.json names the new Postgres", 10_000, async () => {
        const s = await readState(stateDir);
        return s.children.postgres !== killed ? s : undefined;
      })).value;
      assertEquals(state.restarts.postgres, 1);
      assertStringIncludes(stack.output(), `Postgres (pid ${killed}) exited unexpectedly`);
      console.log(`search answered 200 again ${(ms / 1000).toFixed(1)} s after the SIGKILL`);
    });

    await t.step("Redis and an isolate SIGKILLed: each restarted", async () => {
      const redis = state.children.redis;
      const isolate = state.children.functions["flight-search"]![0]!;
      if (redis !== undefined) Deno.kill(redis, "SIGKILL");
      Deno.kill(isolate, "SIGKILL");
      state = (await until("both restarted", 30_000, async () => {
        const s = await readState(stateDir);
        const redisBack = redis === undefined || s.restarts.redis === 1;
        return redisBack && s.restarts.functions["flight-search"] === 1 ? s : undefined;
      })).value;
      await until("a search answers 200 from the new isolate", 10_000, missingSearch);
      assertStringIncludes(stack.output(), `function flight-search (pid ${isolate}) exited`);
    });

    await t.step(
      "the stack SIGKILLed: within 5 s no child runs and its ports are free",
      async () => {
        const children = [
          state.children.postgres!,
          ...(state.children.redis ? [state.children.redis] : []),
          ...Object.values(state.children.functions).flat(),
        ];
        Deno.kill(state.pid, "SIGKILL");
        const { ms } = await until(
          "every child gone",
          5_000,
          async () =>
            children.some(processAlive) || !(await refused(port)) || !(await refused(dbPort))
              ? undefined
              : true,
        );
        await stack.child.status;
        await stack.drained;
        console.log(`children gone ${ms} ms after the SIGKILL`);
        assertEquals(processesWith(stateDir), []);
      },
    );

    await t.step(
      "a Postgres left on the state folder: the next start stops it and serves",
      async () => {
        await orphanPostgres(`${stateDir}/postgres`, dbPort);
        stack = startStackCli(stateDir, port, dbPort);
        state = await stack.ready();
        stackPids.add(state.pid);
        assertStringIncludes(
          stack.output(),
          `Found a Postgres left running on ${stateDir}/postgres`,
        );
        assertStringIncludes(stack.output(), "of a stack that is gone");
        assert(await missingSearch(), "the restarted stack answers");
      },
    );

    await t.step("Ctrl-C with Postgres frozen stops everything within the bound", async () => {
      // As a fault test leaves it: every Postgres process SIGSTOPped.
      const pg = state.children.postgres!;
      for (const pid of [pg, ...childPids(pg)]) Deno.kill(pid, "SIGSTOP");
      const started = performance.now();
      Deno.kill(-stack.child.pid, "SIGINT");
      await stack.child.status;
      const ms = performance.now() - started;
      await stack.drained;
      console.log(`Ctrl-C to exit: ${(ms / 1000).toFixed(1)} s`);
      assert(ms < stopBoundMs, `stopped in ${ms} ms, bound ${stopBoundMs} ms`);
      assertStringIncludes(stack.output(), "Stopped.");
      assertEquals(processesWith(stateDir), []);
      assert(await refused(port) && await refused(dbPort), "ports free");
      await Deno.stat(`${stateDir}/stack.json`).then(
        () => assert(false, "stack.json removed"),
        () => {},
      );
      // The Redis folders of both stacks: the killed one's swept, the stopped one's removed.
      const tmp = Deno.env.get("TMPDIR") || "/tmp";
      for (const entry of Deno.readDirSync(tmp)) {
        if (!entry.name.startsWith("pf-redis-")) continue;
        const owner = await Deno.readTextFile(`${tmp}/${entry.name}/${ownerFile}`).catch(() => "");
        assert(!stackPids.has(Number(owner.trim())), `${entry.name} of a stopped stack is left`);
      }
    });
  } finally {
    try {
      Deno.kill(-stack.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    for (const pid of processesWith(stateDir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await stack.child.status;
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
});
