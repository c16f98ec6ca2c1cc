/**
 * `npm run report` (`deno task report`): renders the readiness report from the latest JSON under
 * reports/ and prints the markdown summary and the HTML path.
 *
 * @module
 */
import { resolve } from "node:path";
import { parseCommandLine } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { generateReport } from "./report.ts";
import { reportsDir as defaultReportsDir } from "../local/paths.ts";

const usage = `Usage: deno task report [--reports-dir DIR] [--out DIR/report.html]
                        [--markdown DIR/report.md]

Reads DIR/bench/search.json, DIR/bench/kms.json, DIR/load/*.json and DIR/deployments/ (whichever
exist) and writes a self-contained HTML report with charts plus a markdown summary. DIR defaults
to REPORTS_DIR, else reports.`;

/** Renders the report; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, { strings: ["reports-dir", "out", "markdown"] });
  if (values.help) return showUsage(usage);
  const reportsDir = (values["reports-dir"] as string | undefined) ?? defaultReportsDir;
  const report = await generateReport({
    reportsDir,
    htmlPath: values.out as string | undefined,
    markdownPath: values.markdown as string | undefined,
  });
  console.log(report.markdown);
  console.log(`HTML report: ${resolve(report.htmlPath)}`);
  console.log(`Markdown:    ${resolve(report.markdownPath)}`);
  return 0;
}

if (import.meta.main) await runMain(main, { usage });
