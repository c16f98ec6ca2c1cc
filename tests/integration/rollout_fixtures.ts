/**
 * Shared pieces of the rollout integration tests: a recording `supabase` stub (the real CLI
 * cannot reach a hosted project from CI), a fake clock that drives the monitoring loop without
 * waiting, metric flushes written as the functions write them, and environment files/variables
 * pointing the hosted environments at a test database and a local stack.
 *
 * @module
 */
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import type { Clock, TimerHandle } from "../../supabase/functions/_shared/clock.ts";
import { repoRoot } from "../../scripts/local/paths.ts";
import { type Bounds, histogram, insertRows, metricRow } from "./monitoring_fixtures.ts";

/** One recorded invocation of the stub. */
export interface CliCall {
  args: string[];
  /** Whether SUPABASE_DB_PASSWORD was in the stub's environment (its value is not recorded). */
  dbPassword: string | null;
  pgsslmode: string | null;
}

/** A `supabase` executable that records its arguments and succeeds (or fails with `exitCode`). */
export interface RecordingCli {
  /** Path of the executable. */
  path: string;
  /** Folder holding it (for PATH). */
  dir: string;
  calls(): Promise<CliCall[]>;
  remove(): Promise<void>;
}

/** Writes the recording stub into a temp folder. */
export async function recordingSupabase(exitCode = 0): Promise<RecordingCli> {
  const dir = await Deno.makeTempDir({ prefix: "supabase-stub-" });
  const log = `${dir}/calls.jsonl`;
  const path = `${dir}/supabase`;
  // The stub speaks JSON through Deno so quoting of any argument survives exactly.
  const deno = `${repoRoot}/node_modules/.bin/deno`;
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash
exec "${deno}" eval --quiet '
const call = { args: Deno.args, dbPassword: Deno.env.get("SUPABASE_DB_PASSWORD") ?? null, pgsslmode: Deno.env.get("PGSSLMODE") ?? null };
Deno.writeTextFileSync("${log}", JSON.stringify(call) + "\\n", { append: true });
console.log(Deno.args[0] === "db" ? "Finished supabase db push." : "Deployed Functions.");
Deno.exit(${exitCode});
' "$@"
`,
  );
  await Deno.chmod(path, 0o755);
  return {
    path,
    dir,
    async calls() {
      try {
        const text = await Deno.readTextFile(log);
        return text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return [];
        throw error;
      }
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Time under the test's control: `sleep` advances `now` (epoch ms, as the rollout's clock counts)
 * at once and then runs `onSleep`, where a test writes the metrics "flushed" during that interval;
 * `gate` lets a test hold a sleeper.
 */
export class FakeClock implements Clock {
  #now: number;
  sleeps = 0;
  onSleep: (now: number) => Promise<void> | void = () => {};
  gate: Promise<void> | undefined;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now;
  }

  /** Not faked: the rollout only sleeps. */
  setTimeout(): TimerHandle {
    throw new Error("FakeClock (rollout): timers are not faked, the rollout only sleeps");
  }

  /** Not faked: the rollout only sleeps. */
  clearTimeout(): void {
    throw new Error("FakeClock (rollout): timers are not faked, the rollout only sleeps");
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.gate) await this.gate;
    signal?.throwIfAborted();
    this.#now += ms;
    this.sleeps++;
    await this.onSleep(this.#now);
  }
}

/** What one path served during one flush. */
export interface PathTraffic {
  requests: number;
  serverErrors?: number;
  fallbacks?: number;
  /** Latency of every request, ms. @default 20 */
  latencyMs?: number;
}

/**
 * Writes one isolate flush per path at `at` (flushed_at), with a healthy cache (half the
 * look-ups hit) so only what the test varies can fail the analysis.
 */
export async function flush(
  sql: Sql,
  bounds: Bounds,
  at: Date,
  traffic: { optimized?: PathTraffic; legacy?: PathTraffic },
): Promise<void> {
  const rows = Object.entries(traffic).map(([path, t]) =>
    metricRow(bounds, {
      path: path as "optimized" | "legacy",
      isolate_id: `isolate-${path}`,
      requests: t.requests,
      server_errors: t.serverErrors ?? 0,
      fallbacks: t.fallbacks ?? 0,
      latency_sum_ms: t.requests * (t.latencyMs ?? 20),
      latency_buckets: histogram(new Array(t.requests).fill(t.latencyMs ?? 20), bounds.latencyMs),
      db_queries: t.requests,
      cache_l1_hits: Math.ceil(t.requests / 2),
      cache_l1_misses: Math.floor(t.requests / 2),
      cache_l2_misses: Math.floor(t.requests / 2),
      flushed_at: at,
    })
  );
  await insertRows(sql, rows);
}

/** Writes a copy of config/environments.json with `edit` applied; resolves with its path. */
export async function environmentsFile(
  dir: string,
  // deno-lint-ignore no-explicit-any -- a test edits arbitrary parts of the parsed JSON
  edit: (config: Record<string, any>) => void,
): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${repoRoot}/config/environments.json`));
  edit(config);
  const path = `${dir}/environments.json`;
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** A 20-letter project ref as the hosted environments need. */
export const testProjectRef = "rolloutteststagingab";

/**
 * A `k6` executable for machines without k6 (ours): answers `k6 version` with v0.53.0, exits 107
 * (k6's script error) without a routes file, else writes a summary with `errorRate` to SUMMARY_FILE
 * and exits `exitCode` (99 is k6's "thresholds crossed").
 */
export async function k6Stub(
  exitCode: number,
  errorRate: number,
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "k6-stub-" });
  const path = `${dir}/k6`;
  const summary = {
    metrics: {
      http_reqs: { type: "counter", values: { count: 400, rate: 40 } },
      server_errors: { type: "rate", values: { rate: errorRate } },
      http_req_duration: { type: "trend", values: { "p(95)": 80 } },
    },
  };
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash\nif [ "$1" = version ]; then echo 'k6 v0.53.0 (go1.22.5, linux/amd64)'; exit 0; fi\n` +
      `test -s "$ROUTES_FILE" || exit 107\n` +
      `echo '${JSON.stringify(summary)}' > "$SUMMARY_FILE"\nexit ${exitCode}\n`,
  );
  await Deno.chmod(path, 0o755);
  return { path, remove: () => Deno.remove(dir, { recursive: true }) };
}
