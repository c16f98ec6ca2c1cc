/**
 * The built-in load driver for machines without k6: runs a workload of scripts/load/workloads/
 * with autocannon and returns the same summary the k6 scripts write.
 *
 * autocannon runs in a Node child process (scripts/load/autocannon_runner.js): the generator
 * then has an event loop of its own, apart from whatever the calling Deno process serves (a
 * test's HTTP server, the rollout CLI), and it is the autocannon package.json pins, run by the
 * runtime it is written for. This side validates options, finds routes, plans the runs,
 * aggregates the records k6-style and checks the thresholds from config/sla.json.
 *
 * @module
 */
import { z } from "zod";
import { fileURLToPath } from "node:url";
import { freshSeed } from "./workloads/search_mix.js";
import { resolveWorkload, type Workload, workloadNames } from "./workloads/workloads.js";
import { functionPath } from "./workloads/response.js";
import { k6Thresholds } from "./workloads/thresholds.js";
import { readLines } from "../local/lines.ts";
import { loadSla } from "../sla/sla.ts";
import { type RunRecord, summarize } from "./aggregate.ts";
import { machineInfo } from "./machine.ts";
import { autocannonRuns } from "./plan.ts";
import { findRoutes, routeSchema } from "./routes.ts";
import { type LoadSummary, parseLoadSummary } from "./summary.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const runnerPath = fileURLToPath(new URL("./autocannon_runner.js", import.meta.url));

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** zod schema of {@link DriverOptions} (functions excluded). */
export const driverOptionsSchema = z.strictObject({
  /** The project's API URL (SUPABASE_URL), e.g. http://127.0.0.1:54321. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** The anon key; sent as `Authorization: Bearer` and `apikey`. */
  anonKey: z.string().min(1),
  /** A workload of ./workloads/workloads.js. */
  scenario: z.enum(workloadNames as [string, ...string[]]),
  /** Total duration override, seconds. */
  durationS: positiveInt(7 * 24 * 3600).optional(),
  /** Peak VU override. */
  vus: positiveInt(10_000).optional(),
  /** constant-arrival-rate override, requests per second. */
  rate: positiveInt(100_000).optional(),
  /** Seed of the search mix. */
  seed: positiveInt(2 ** 31 - 1).optional(),
  /** Routes to search; else `routesFile`, else `dbUrl`, else the REST API. */
  routes: z.array(routeSchema).min(1).optional(),
  /** A routes file (as `deno task load:routes` writes). */
  routesFile: z.string().min(1).optional(),
  /** A Postgres URL to read the busiest routes from. */
  dbUrl: z.string().regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL").optional(),
  /** The SLA level the thresholds are set at. @default "rollback" */
  gateLevel: z.enum(["warning", "critical", "rollback"]).default("rollback"),
  /** Per-request timeout, seconds. @default 10 */
  timeoutS: positiveInt(300).default(10),
  /** config/sla.json to build thresholds from. @default the repository's */
  slaPath: z.string().min(1).optional(),
  /** The Node binary that runs autocannon. @default "node" */
  node: z.string().min(1).default("node"),
});

/** Options of {@link runScenario}. */
export type DriverOptions = z.input<typeof driverOptionsSchema> & {
  /** Progress lines. @default ignore */
  log?: (line: string) => void;
  /** Stops the run (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
};

/** A bad option; the CLI exits 2 on it. The message names the option. */
export class DriverOptionsError extends Error {
  override name = "DriverOptionsError";
}

/** The run could not be carried out (Node or autocannon missing, runner failed). */
export class DriverError extends Error {
  override name = "DriverError";
}

/**
 * Validates options and resolves the workload.
 *
 * @throws {DriverOptionsError} naming the first bad option.
 */
export function resolveDriverOptions(
  options: DriverOptions,
): { options: z.output<typeof driverOptionsSchema>; workload: Workload } {
  const { log: _log, signal: _signal, ...plain } = options;
  const parsed = driverOptionsSchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "options";
    const top = issue?.path[0];
    const missing = issue?.code === "invalid_type" && typeof top === "string" &&
      issue.path.length === 1 && (plain as Record<string, unknown>)[top] === undefined;
    throw new DriverOptionsError(
      `${field}: ${missing ? "is required" : issue?.message ?? "invalid"}`,
    );
  }
  try {
    const { scenario, durationS, vus, rate, seed } = parsed.data;
    return {
      options: parsed.data,
      workload: resolveWorkload(scenario, { durationS, vus, rate, seed }),
    };
  } catch (error) {
    throw new DriverOptionsError((error as Error).message);
  }
}

async function runRunner(
  node: string,
  plan: unknown,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<RunRecord[]> {
  try {
    await Deno.stat(`${repoRoot}/node_modules/autocannon/package.json`);
  } catch {
    throw new DriverError("autocannon is not installed: run `npm install`");
  }
  // Aborted while the routes were read (Ctrl-C as monitoring begins): an abort listener added
  // now would never fire, and the run would go on for its whole duration.
  signal?.throwIfAborted();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(node, {
      args: [runnerPath],
      cwd: repoRoot,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new DriverError(
      `cannot start "${node}" (Node runs autocannon; install Node 20+): ${
        (error as Error).message
      }`,
    );
  }
  const abort = () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
  };
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(plan)));
    await writer.close();
    const stderrLines: string[] = [];
    const stderr = (async () => {
      const pending = await readLines(child.stderr, (line) => {
        stderrLines.push(line);
        if (stderrLines.length > 50) stderrLines.shift();
        log(line);
      });
      if (pending) stderrLines.push(pending);
    })();
    const stdout = new Response(child.stdout).text();
    const [status, out] = await Promise.all([child.status, stdout, stderr]);
    signal?.throwIfAborted();
    if (!status.success) {
      throw new DriverError(
        `the autocannon runner exited with code ${status.code}:\n${stderrLines.join("\n")}`,
      );
    }
    return (JSON.parse(out) as { runs: RunRecord[] }).runs;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

/**
 * Runs `options.scenario` against `${baseUrl}/functions/v1/flight-search` and returns its
 * summary (validated by the schema the k6 summaries are validated by). Thresholds come from
 * config/sla.json at `gateLevel`; check them with `thresholdsOk(summary)` from ./summary.ts.
 *
 * @example
 * ```ts
 * const summary = await runScenario({
 *   baseUrl: stack.url, anonKey: stack.anonKey, scenario: "baseline", durationS: 10, vus: 5,
 *   dbUrl: stack.dbUrl,
 * });
 * ```
 * @throws {DriverOptionsError} for a bad option (naming it).
 * @throws {RoutesError} when no routes could be had.
 * @throws {DriverError} when Node/autocannon is missing or the runner fails.
 */
export async function runScenario(options: DriverOptions): Promise<LoadSummary> {
  const log = options.log ?? (() => {});
  const { options: opts, workload } = resolveDriverOptions(options);
  const sla = await loadSla(opts.slaPath);
  const routes = await findRoutes(opts, log);
  const thresholds = k6Thresholds(sla, workload, opts.gateLevel);
  const runs = autocannonRuns(workload);
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const seed = workload.seed ?? freshSeed();
  log(
    `${workload.name}: ${runs.length} autocannon run(s), ${
      runs.reduce((sum, r) => sum + r.durationS, 0)
    } s, ${routes.length} routes, against ${baseUrl}${functionPath}`,
  );
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const records = await runRunner(
    opts.node,
    {
      url: baseUrl + functionPath,
      anonKey: opts.anonKey,
      seed,
      duplication: workload.duplication,
      phaseCount: workload.phases.length,
      sessions: workload.sessions,
      routes,
      timeoutS: opts.timeoutS,
      runs,
    },
    log,
    options.signal,
  );
  const ended = Date.now();
  const unmatched = records.reduce((sum, r) => sum + r.unmatched, 0);
  if (unmatched > 0) log(`warning: ${unmatched} responses could not be classified`);
  const summary = summarize({
    workload,
    runs: records,
    thresholds,
    testRunDurationMs: ended - started,
    meta: {
      driver: "autocannon",
      workload: workload.name,
      description: workload.description,
      startedAt,
      endedAt: new Date(ended).toISOString(),
      baseUrl,
      seed,
      duplication: workload.duplication,
      gateLevel: opts.gateLevel,
      routes: routes.length,
      phases: workload.phases,
      machine: machineInfo(),
    },
  });
  return parseLoadSummary(summary, "driver summary");
}
