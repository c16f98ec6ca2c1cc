/**
 * A section of the readiness report — tables of formatted cells and chart series built from one
 * kind of input — and what every section builder shares: the not-run/invalid section of an input
 * that is missing or unreadable, and the table of a benchmark's own targets.
 *
 * @module
 */
import type { BenchTarget } from "../bench/bench_run.ts";
import type { Input } from "./inputs.ts";

/** A table with formatted cells. */
export interface Table {
  caption: string;
  columns: string[];
  rows: string[][];
}

/** A chart: labels on the x axis, one series per dataset. */
export interface ChartSpec {
  id: string;
  title: string;
  kind: "line" | "bar";
  xTitle: string;
  yTitle: string;
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
  stacked?: boolean;
}

/** One part of the report, from one kind of input. */
export interface Section {
  id: string;
  title: string;
  status: "ok" | "not_run" | "invalid";
  /** The file(s) it was built from, or would be. */
  source: string;
  /** The command that produces the input; for a measured section, the one that did. */
  command: string;
  /** Why it is not run or invalid; remarks. */
  notes: string[];
  /** When the input's run started (ISO) and where, when known. */
  ranAt?: string;
  machine?: string;
  tables: Table[];
  charts: ChartSpec[];
}

/** What names a section whatever its input held. */
export type SectionHead = Pick<Section, "id" | "title" | "command">;

/** What a section builder makes of an input that was read. */
export type SectionBody = Omit<Section, "id" | "title" | "source" | "status" | "command"> & {
  /** The command that produced the input, when it says; else the head's. */
  command?: string;
};

/** The section of an input that is missing or invalid. */
export function notRun(
  base: Omit<Section, "status" | "notes" | "tables" | "charts">,
  input: Input<unknown>,
): Section {
  return input.status === "missing"
    ? {
      ...base,
      status: "not_run",
      notes: [`not run: ${input.path} not found — run \`${base.command}\``],
      tables: [],
      charts: [],
    }
    : {
      ...base,
      status: "invalid",
      notes: [`invalid: ${input.path}: ${input.status === "invalid" ? input.error : ""}`],
      tables: [],
      charts: [],
    };
}

/**
 * The section of one input file: `build` renders the data when the file was read, else the
 * section says it is not run or invalid ({@link notRun}).
 */
export function sectionOf<T>(
  head: SectionHead,
  input: Input<T>,
  build: (data: T) => SectionBody,
): Section {
  const base = { id: head.id, title: head.title, source: input.path, command: head.command };
  if (input.status !== "ok") return notRun(base, input);
  const { command = head.command, ...body } = build(input.data);
  return { ...base, command, status: "ok", ...body };
}

/** The targets a benchmark judged itself against, as a table. */
export function targetsTable(targets: BenchTarget[]): Table {
  return {
    caption: "Targets the benchmark judges itself against",
    columns: ["Target", "Goal", "Measured", "Result"],
    rows: targets.map((t) => [t.name, t.goal, t.measured, t.met ? "✓ met" : "✗ missed"]),
  };
}
