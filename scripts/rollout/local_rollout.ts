/**
 * The rollout `npm start` runs against the stack it just started: `-e local` through staged steps
 * with short windows, synthetic traffic during monitoring, then the readiness report rendered
 * (scripts/report) with the phase-3 load test in it.
 *
 * @module
 */
import { resolve } from "node:path";
import type { LoadSummary } from "../load/summary.ts";
import { runScenario } from "../load/driver.ts";
import { generateReport } from "../report/report.ts";
import { reportsDir as defaultReportsDir } from "../local/paths.ts";
import { driverTester, findOnPath, k6Tester, type RunScenario } from "./load_testers.ts";
import type { LocalStack } from "./local_stack.ts";
import { parseRolloutArgs } from "./options.ts";
import { type RolloutDeps, type RolloutResult, runRollout } from "./rollout.ts";
import { driverTraffic, withPaymentTraffic } from "./synthetic_traffic.ts";

/**
 * The command line of the local rollout: the steps of the issue, windows short enough for a
 * first run to finish in about a minute and a half, yet several checks per step.
 */
export const localRolloutArgs: readonly string[] = [
  "-e",
  "local",
  "--steps",
  "10,50,100",
  "--monitor",
  "15s",
  "--interval",
  "5s",
];

/** Options of {@link runLocalRollout}. */
export interface LocalRolloutOptions {
  /** Ctrl-C: the rollout rolls the flag back and resolves. */
  signal?: AbortSignal;
  /** @default console.log */
  print?: (line: string) => void;
  /**
   * Holds load/ (the phase-3 summary and routes), deployments/ and the rendered report.
   * @default REPORTS_DIR, else reports
   */
  reportsDir?: string;
  /** Extra rollout dependencies (tests). */
  deps?: Partial<RolloutDeps>;
}

/** How the local rollout ended, and where its reports are. */
export interface LocalRolloutOutcome {
  result: RolloutResult;
  /** The rendered readiness report; undefined when rendering failed (said in the output). */
  report?: { html: string; markdown: string };
}

/** The built-in driver, keeping its summary under `dir` where the report reads it. */
function savingRunScenario(dir: string, run: RunScenario = runScenario): RunScenario {
  return async (options) => {
    const summary: LoadSummary = await run(options);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/${options.scenario}.json`,
      JSON.stringify(summary, null, 2) + "\n",
    );
    return summary;
  };
}

/**
 * Runs {@link localRolloutArgs} against `stack`, prints the deployment's phases and checks, and
 * renders the HTML report. Never throws for a deploy that went wrong: see `result.exitCode`.
 */
export async function runLocalRollout(
  stack: LocalStack & {
    /** With the stack's JWT secret, the monitoring traffic also saves and reveals cards. */
    jwtSecret?: string;
  },
  options: LocalRolloutOptions = {},
): Promise<LocalRolloutOutcome> {
  const {
    signal,
    print = (line: string) => console.log(line),
    reportsDir = defaultReportsDir,
    deps = {},
  } = options;
  const parsed = parseRolloutArgs(localRolloutArgs);
  if (parsed.kind !== "rollout") throw new Error("localRolloutArgs must describe a rollout");
  const k6 = findOnPath("k6");
  const result = await runRollout(parsed.options, {
    print,
    localStack: stack,
    reportsDir: `${reportsDir}/deployments`,
    performanceTest: k6
      ? k6Tester(k6, { reportsDir, keepSummary: true })
      : driverTester(savingRunScenario(`${reportsDir}/load`)),
    traffic: stack.jwtSecret
      ? withPaymentTraffic(driverTraffic(), {
        jwtSecret: stack.jwtSecret,
        serviceRoleKey: stack.serviceRoleKey,
      }, print)
      : driverTraffic(),
    ...(signal ? { signal } : {}),
    ...deps,
  });
  const outcome: LocalRolloutOutcome = { result };

  print("");
  if (result.reports) {
    const markdown = await Deno.readTextFile(result.reports.markdown);
    // The phases and the checks; the commands and events stay in the file.
    const end = markdown.indexOf("\n## Commands and writes");
    print(end > 0 ? markdown.slice(0, end).trimEnd() : markdown.trimEnd());
    print("");
    print(`Deployment log: ${result.reports.markdown} (JSON: ${result.reports.json})`);
  }
  try {
    const report = await generateReport({ reportsDir });
    outcome.report = { html: resolve(report.htmlPath), markdown: resolve(report.markdownPath) };
    print(`HTML report:    ${outcome.report.html}`);
  } catch (error) {
    print(`warning: could not render the HTML report: ${(error as Error).message}`);
  }
  return outcome;
}
