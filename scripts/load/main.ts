/**
 * `deno task load`: runs a workload with the built-in driver and writes its summary JSON.
 *
 * Exit codes follow k6: 0 thresholds held, 99 a threshold failed; plus 2 for a bad option and 1
 * when the run could not be carried out.
 *
 * @module
 */
import { workloadNames } from "./workloads/workloads.js";
import { summaryText } from "./workloads/summary.js";
import { parseDuration } from "../sla/sla.ts";
import { reportsDir } from "../local/paths.ts";
import {
  type DriverOptions,
  DriverOptionsError,
  resolveDriverOptions,
  runScenario,
} from "./driver.ts";
import { type LoadSummary, thresholdsOk } from "./summary.ts";
import { parseCommandLine } from "../_cli/args.ts";
import { UsageError } from "../_cli/errors.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";

const usage = `Usage: deno task load --scenario NAME [options]

Runs a workload of scripts/load/workloads/ against ${"${SUPABASE_URL}"}/functions/v1/flight-search
with autocannon and writes the same summary JSON the k6 scripts write.

Options:
  --scenario NAME     ${workloadNames.join(" | ")}
  --base-url URL      project API URL              (env SUPABASE_URL)
  --anon-key KEY      anon key; prefer the env var (env SUPABASE_ANON_KEY)
  --duration D        total duration, e.g. 30s, 5m (env LOAD_DURATION)
  --vus N             peak virtual users           (env LOAD_VUS)
  --rate N            arrival rate per second, soak only (env LOAD_RATE)
  --seed N            seed of the search mix       (env LOAD_SEED)
  --routes-file PATH  routes JSON (deno task load:routes) (env ROUTES_FILE)
  --db-url URL        read routes from this Postgres (env SUPABASE_DB_URL)
  --gate-level L      warning | critical | rollback (env LOAD_GATE_LEVEL) default rollback
  --timeout D         per-request timeout          default 10s
  --out PATH          summary file                 default $REPORTS_DIR/load/<scenario>.json (REPORTS_DIR: reports)
  -h, --help          show this help

Without --routes-file or --db-url, routes come from flights read through the REST API.
Exit: 0 thresholds held, 99 a threshold failed, 2 bad option, 1 the run failed.`;

/** The parsed command line: driver options plus where to write. */
export interface LoadCli {
  help: boolean;
  out: string;
  options: DriverOptions;
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return Math.max(1, Math.round(parseDuration(text) / 1000));
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${flag}: expected a positive integer, got "${text}"`);
  }
  return Number(text);
}

/**
 * Parses and validates the command line (environment variables fill in what flags leave out).
 *
 * @throws {UsageError} naming the bad flag.
 */
export function parseLoadArgs(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): LoadCli {
  const { values } = parseCommandLine(args, {
    strings: [
      "scenario",
      "base-url",
      "anon-key",
      "duration",
      "vus",
      "rate",
      "seed",
      "routes-file",
      "db-url",
      "gate-level",
      "timeout",
      "out",
    ],
  });
  const str = (flag: string, envName?: string) =>
    (values[flag] as string | undefined) ?? (envName ? env[envName] || undefined : undefined);
  if (values.help) return { help: true, out: "", options: {} as DriverOptions };
  const scenario = str("scenario");
  if (!scenario) throw new UsageError("--scenario is required");
  const options: DriverOptions = {
    baseUrl: str("base-url", "SUPABASE_URL") as string,
    anonKey: str("anon-key", "SUPABASE_ANON_KEY") as string,
    scenario,
    durationS: seconds(str("duration", "LOAD_DURATION"), "--duration"),
    vus: integer(str("vus", "LOAD_VUS"), "--vus"),
    rate: integer(str("rate", "LOAD_RATE"), "--rate"),
    seed: integer(str("seed", "LOAD_SEED"), "--seed"),
    routesFile: str("routes-file", "ROUTES_FILE"),
    dbUrl: str("db-url", "SUPABASE_DB_URL"),
    gateLevel: str("gate-level", "LOAD_GATE_LEVEL") as DriverOptions["gateLevel"],
    timeoutS: seconds(str("timeout"), "--timeout"),
  };
  for (const key of Object.keys(options) as (keyof DriverOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  const flagOf: Record<string, string> = {
    baseUrl: "--base-url (or SUPABASE_URL)",
    anonKey: "--anon-key (or SUPABASE_ANON_KEY)",
    scenario: "--scenario",
    durationS: "--duration",
    vus: "--vus",
    rate: "--rate",
    seed: "--seed",
    routesFile: "--routes-file",
    dbUrl: "--db-url",
    gateLevel: "--gate-level",
    timeoutS: "--timeout",
  };
  try {
    resolveDriverOptions(options);
  } catch (error) {
    if (!(error instanceof DriverOptionsError)) throw error;
    const field = error.message.split(":")[0] ?? "";
    throw new UsageError(
      flagOf[field] ? `${flagOf[field]}${error.message.slice(field.length)}` : error.message,
    );
  }
  return { help: false, out: str("out") ?? `${reportsDir}/load/${scenario}.json`, options };
}

/** Writes `summary` to `path` (creating folders). */
export async function writeSummary(path: string, summary: LoadSummary): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(summary, null, 2) + "\n");
}

/** Runs the workload of `args`; resolves with the exit code (0 held, 99 a threshold failed). */
async function main(args: string[]): Promise<number> {
  const cli = parseLoadArgs(args);
  if (cli.help) return showUsage(usage);
  const summary = await runScenario({ ...cli.options, log: (line) => console.error(line) });
  await writeSummary(cli.out, summary);
  console.log(summaryText(summary));
  console.log(`summary written to ${cli.out}`);
  return thresholdsOk(summary) ? 0 : 99;
}

// A run that could not be carried out exits 1.
if (import.meta.main) await runMain(main, { usage, failureCode: 1 });
