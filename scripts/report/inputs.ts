/**
 * What the readiness report reads, validated: the latest benchmark and load-test JSON under
 * `reports/`. A missing file is "not run", an invalid one "invalid" with the field at fault;
 * neither stops the report.
 *
 * Files and the shapes they must have (each schema is the one its writer validates with):
 * - `reports/bench/search.json` (scripts/bench/search_report.ts), from `deno task bench:search`;
 * - `reports/bench/kms.json` (scripts/bench/kms_report.ts), from `deno task bench:kms`;
 * - `reports/bench/faults.json` (scripts/bench/faults_report.ts), from `deno task bench:faults`;
 * - `reports/load/*.json` (scripts/load/summary.ts), from `deno task load` or k6; the latest
 *   per workload (by `meta.endedAt`) is used, `routes.json` is not a summary;
 * - `reports/deployments/<id>.json` ({@link deploymentSchema}), from the rollout CLI or
 *   `npm start`: the latest deploy (ids sort by start time), when there is one.
 *
 * @module
 */
import { z } from "zod";
import { type FaultsReport, faultsReportSchema } from "../bench/faults_report.ts";
import { type KmsReport, kmsReportSchema } from "../bench/kms_report.ts";
import { type SearchReport, searchReportSchema } from "../bench/search_report.ts";
import { type LoadSummary, parseLoadSummary } from "../load/summary.ts";

const checkMetricSchema = z.looseObject({
  metric: z.string(),
  optimized: z.number().nullable(),
  legacy: z.number().nullable(),
  verdict: z.string(),
});

/**
 * `reports/deployments/<id>.json` (scripts/rollout/deployment_log.ts writes it, unvalidated): the
 * fields the report shows.
 */
export const deploymentSchema = z.looseObject({
  id: z.string().min(1),
  environment: z.string(),
  flagKey: z.string(),
  fromPercentage: z.number(),
  toPercentage: z.number(),
  steps: z.array(z.number()),
  /** promoted, rolled_back, failed, aborted (running while in progress). */
  status: z.string(),
  reason: z.string().nullable(),
  startedAt: z.iso.datetime({ offset: true }),
  finishedAt: z.iso.datetime({ offset: true }).nullable(),
  startedBy: z.string(),
  dryRun: z.boolean(),
  phases: z.array(z.looseObject({
    number: z.number().int(),
    name: z.string(),
    step: z.number().optional(),
    durationMs: z.number().optional(),
    outcome: z.string().optional(),
    detail: z.string().optional(),
  })),
  checks: z.array(z.looseObject({
    step: z.number(),
    check: z.looseObject({
      index: z.number().int(),
      outcome: z.string(),
      optimizedRequests: z.number(),
      legacyRequests: z.number(),
      metrics: z.array(checkMetricSchema),
      notes: z.array(z.string()),
    }),
  })),
});
/** A deploy as the report reads it. */
export type Deployment = z.output<typeof deploymentSchema>;

/** One input file: present and valid, absent, or invalid. */
export type Input<T> =
  | { status: "ok"; path: string; data: T }
  | { status: "missing"; path: string }
  | { status: "invalid"; path: string; error: string };

/** Everything the report reads. */
export interface ReportInputs {
  search: Input<SearchReport>;
  kms: Input<KmsReport>;
  /** `reports/bench/faults.json` from `deno task bench:faults`; absent in older callers. */
  faults?: Input<FaultsReport>;
  /** The latest valid summary per workload, then the invalid files. */
  loads: Input<LoadSummary>[];
  /** The folder the load summaries were read from. @default "reports/load" */
  loadsDir?: string;
  /** The latest deploy's log; absent when no deploy has been logged. */
  rollout?: Input<Deployment>;
}

async function readJson(
  path: string,
): Promise<{ value?: unknown; missing?: true; error?: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { missing: true };
    return { error: (error as Error).message };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : "(document)";
  return `${field}: ${issue?.message ?? "invalid"}`;
}

async function readBench<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<Input<z.output<S>>> {
  const read = await readJson(path);
  if (read.missing) return { status: "missing", path };
  if (read.error !== undefined) return { status: "invalid", path, error: read.error };
  const parsed = schema.safeParse(read.value);
  return parsed.success
    ? { status: "ok", path, data: parsed.data }
    : { status: "invalid", path, error: zodMessage(parsed.error) };
}

async function readLoads(dir: string): Promise<Input<LoadSummary>[]> {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".json") && e.name !== "routes.json")
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const latest = new Map<string, { status: "ok"; path: string; data: LoadSummary }>();
  const invalid: Input<LoadSummary>[] = [];
  for (const name of names) {
    const path = `${dir}/${name}`;
    const read = await readJson(path);
    if (read.error !== undefined) {
      invalid.push({ status: "invalid", path, error: read.error });
      continue;
    }
    try {
      const data = parseLoadSummary(read.value, path);
      const current = latest.get(data.meta.workload);
      if (!current || current.data.meta.endedAt < data.meta.endedAt) {
        latest.set(data.meta.workload, { status: "ok", path, data });
      }
    } catch (error) {
      invalid.push({
        status: "invalid",
        path,
        error: (error as Error).message.slice(path.length + 2),
      });
    }
  }
  return [...[...latest.values()].sort((a, b) => a.path.localeCompare(b.path)), ...invalid];
}

async function readLatestDeployment(dir: string): Promise<Input<Deployment> | undefined> {
  let latest: string | undefined;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || !/^dep_.*\.json$/.test(entry.name)) continue;
      if (latest === undefined || entry.name > latest) latest = entry.name;
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return latest === undefined ? undefined : await readBench(`${dir}/${latest}`, deploymentSchema);
}

/** Reads every input under `reportsDir`. */
export async function readReportInputs(reportsDir: string): Promise<ReportInputs> {
  const inputs: ReportInputs = {
    search: await readBench(`${reportsDir}/bench/search.json`, searchReportSchema),
    kms: await readBench(`${reportsDir}/bench/kms.json`, kmsReportSchema),
    faults: await readBench(`${reportsDir}/bench/faults.json`, faultsReportSchema),
    loads: await readLoads(`${reportsDir}/load`),
    loadsDir: `${reportsDir}/load`,
  };
  const rollout = await readLatestDeployment(`${reportsDir}/deployments`);
  if (rollout) inputs.rollout = rollout;
  return inputs;
}
