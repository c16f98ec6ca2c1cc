/**
 * What the readiness report reads, validated: the latest benchmark and load-test JSON under
 * `reports/`. A missing file is "not run", an invalid one "invalid" with the field at fault;
 * neither stops the report.
 *
 * Files and the shapes they must have (each schema is the one its writer validates with):
 * - `reports/bench/search.json` (scripts/bench/search_report.ts), from `deno task bench:search`;
 * - `reports/bench/kms.json` (scripts/bench/kms_report.ts), from `deno task bench:kms`;
 * - `reports/load/*.json` (scripts/load/summary.ts), from `deno task load` or k6; the latest
 *   per workload (by `meta.endedAt`) is used, `routes.json` is not a summary.
 *
 * @module
 */
import type { z } from "zod";
import { type KmsReport, kmsReportSchema } from "../bench/kms_report.ts";
import { type SearchReport, searchReportSchema } from "../bench/search_report.ts";
import { type LoadSummary, parseLoadSummary } from "../load/summary.ts";

/** One input file: present and valid, absent, or invalid. */
export type Input<T> =
  | { status: "ok"; path: string; data: T }
  | { status: "missing"; path: string }
  | { status: "invalid"; path: string; error: string };

/** Everything the report reads. */
export interface ReportInputs {
  search: Input<SearchReport>;
  kms: Input<KmsReport>;
  /** The latest valid summary per workload, then the invalid files. */
  loads: Input<LoadSummary>[];
  /** The folder the load summaries were read from. @default "reports/load" */
  loadsDir?: string;
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

/** Reads every input under `reportsDir`. */
export async function readReportInputs(reportsDir: string): Promise<ReportInputs> {
  return {
    search: await readBench(`${reportsDir}/bench/search.json`, searchReportSchema),
    kms: await readBench(`${reportsDir}/bench/kms.json`, kmsReportSchema),
    loads: await readLoads(`${reportsDir}/load`),
    loadsDir: `${reportsDir}/load`,
  };
}
