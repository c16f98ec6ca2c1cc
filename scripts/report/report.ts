/**
 * Generates the readiness report: reads reports/, builds the model, writes the HTML (Chart.js
 * inlined) and the markdown summary.
 *
 * @module
 */
import { dirname } from "node:path";
import { loadSla } from "../sla/sla.ts";
import { reportsDir as defaultReportsDir } from "../local/paths.ts";
import { machineInfo } from "../load/machine.ts";
import type { Machine } from "../load/summary.ts";
import { chartJsSource } from "./chart_js.ts";
import { renderHtml } from "./html.ts";
import { readReportInputs } from "./inputs.ts";
import { renderMarkdown } from "./markdown.ts";
import { buildReport, type ReportModel } from "./model.ts";

/** Options of {@link generateReport}. */
export interface GenerateReportOptions {
  /** Folder holding bench/ and load/. @default REPORTS_DIR, else reports */
  reportsDir?: string;
  /** @default `${reportsDir}/report.html` */
  htmlPath?: string;
  /** @default `${reportsDir}/report.md` */
  markdownPath?: string;
  /** config/sla.json. @default the repository's */
  slaPath?: string;
  /** The clock. @default now */
  now?: () => Date;
  /** The machine the report is generated on. @default this one */
  machine?: Machine;
}

/** What {@link generateReport} wrote. */
export interface GeneratedReport {
  model: ReportModel;
  htmlPath: string;
  markdownPath: string;
  markdown: string;
}

/** Reads the inputs, writes the HTML and markdown reports. */
export async function generateReport(
  options: GenerateReportOptions = {},
): Promise<GeneratedReport> {
  const {
    reportsDir = defaultReportsDir,
    htmlPath = `${reportsDir}/report.html`,
    markdownPath = `${reportsDir}/report.md`,
    slaPath,
    now = () => new Date(),
    machine = machineInfo(),
  } = options;
  const [inputs, sla, chartJs] = await Promise.all([
    readReportInputs(reportsDir),
    loadSla(slaPath),
    chartJsSource(),
  ]);
  const model = buildReport(inputs, sla, { generatedAt: now(), machine });
  const markdown = renderMarkdown(model);
  for (const path of [htmlPath, markdownPath]) await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(htmlPath, renderHtml(model, chartJs));
  await Deno.writeTextFile(markdownPath, markdown);
  return { model, htmlPath, markdownPath, markdown };
}
