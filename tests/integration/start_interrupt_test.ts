/**
 * `npm start` interrupted by Ctrl-C while its rollout is monitoring: the real start script run as
 * `deno task start`, the real local stack (on a test database, its state and reports in temporary
 * folders), a SIGINT sent to the whole process group as a terminal sends it — the stack's servers
 * run in process groups of their own, so the script must roll the flag back and stop them itself,
 * within the documented bound.
 */
import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { stopBoundMs } from "../../scripts/local/main.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const flagKey = "flight_search_optimization";

/** Processes whose environment holds `marker` (every child of the script inherits it). */
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
  return found;
}

Deno.test(
  "npm start: Ctrl-C during monitoring rolls the flag back, stops every process it started, exit 130",
  { ...opts, ignore: Deno.build.os !== "linux" },
  async () => {
    const db = await testDatabase();
    const stateDir = await Deno.makeTempDir({ prefix: "pf_start_state_" });
    const reportsDir = await Deno.makeTempDir({ prefix: "pf_start_reports_" });
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "start", "--port", String(port)],
      cwd: repoRoot,
      detached: true,
      env: {
        DENO_NO_PACKAGE_JSON: "1",
        NO_COLOR: "1",
        DATABASE_URL: db.url,
        STACK_STATE_DIR: stateDir,
        REPORTS_DIR: reportsDir,
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let stdout = "";
    let exit: Deno.CommandStatus | undefined;
    try {
      // Read until the rollout is monitoring its first step.
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          stdout += value;
        }
      })();
      const deadline = Date.now() + 120_000;
      while (!/Phase 4\/5 Monitoring \(step 10%\)/.test(stdout)) {
        assert(Date.now() < deadline, `never reached monitoring:\n${stdout}`);
        assert(!/\nStopped\./.test(stdout), `ended before monitoring:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [flagBefore] = await db.sql<{ enabled: boolean; traffic_percentage: number }[]>`
        select enabled, traffic_percentage from public.feature_flags where flag_key = ${flagKey}`;
      assertEquals(flagBefore, { enabled: true, traffic_percentage: 10 });
      assert(processesWith(stateDir).length > 1, "the stack's processes carry the marker");

      const interruptedAt = performance.now();
      Deno.kill(-child.pid, "SIGINT");
      exit = await child.status;
      const stopSeconds = (performance.now() - interruptedAt) / 1000;
      await reading;
      console.log(`Ctrl-C to exit: ${stopSeconds.toFixed(1)} s`);
      assert(
        stopSeconds * 1000 < stopBoundMs,
        `stopped in ${stopSeconds} s:\n${stdout.slice(-4000)}\nstderr:\n${await stderr}`,
      );

      assertEquals(exit.code, 130, `stdout:\n${stdout}\nstderr:\n${await stderr}`);
      assertStringIncludes(await stderr, "interrupted: rolling back");
      const [flag] = await db.sql<{ enabled: boolean; traffic_percentage: number }[]>`
        select enabled, traffic_percentage from public.feature_flags where flag_key = ${flagKey}`;
      assertEquals(flag, { enabled: false, traffic_percentage: 0 });
      const [deployment] = await db.sql<{ status: string; reason: string }[]>`
        select status, reason from public.deployments order by started_at desc limit 1`;
      assertEquals(deployment?.status, "aborted");
      assertStringIncludes(deployment!.reason, "Ctrl-C (SIGINT)");
      const [history] = await db.sql<{ reason: string }[]>`
        select reason from public.feature_flag_history where flag_key = ${flagKey}
         order by id desc limit 1`;
      assertStringIncludes(history!.reason, "Ctrl-C");

      // Nothing left running, nothing left listening, the state file gone; the reports went to
      // REPORTS_DIR.
      assertEquals(processesWith(stateDir), []);
      await assertRefused(port);
      await assertMissing(`${stateDir}/stack.json`);
      assert(
        [...Deno.readDirSync(`${reportsDir}/deployments`)].some((e) => e.name.endsWith(".md")),
        "the deployment log is in REPORTS_DIR",
      );
    } finally {
      if (!exit) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await child.status;
      }
      for (const pid of processesWith(stateDir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(reportsDir, { recursive: true });
      await db.drop();
    }
  },
);

async function assertRefused(port: number): Promise<void> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  } catch (error) {
    assert(error instanceof Deno.errors.ConnectionRefused, String(error));
    return;
  }
  throw new Error(`port ${port} still accepts connections`);
}

async function assertMissing(path: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (error) {
    assert(error instanceof Deno.errors.NotFound, String(error));
    return;
  }
  throw new Error(`${path} still exists`);
}
