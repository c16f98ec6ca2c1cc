/**
 * `npm run report` (`deno task report`): renders the readiness report from the latest JSON under
 * reports/ and prints the markdown summary and the HTML path.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { generateReport } from "./report.ts";
import { reportsDir as defaultReportsDir } from "../local/paths.ts";

const usage = `Usage: deno task report [--reports-dir DIR] [--out DIR/report.html]
                        [--markdown DIR/report.md]

Reads DIR/bench/search.json, DIR/bench/kms.json, DIR/load/*.json and DIR/deployments/ (whichever
exist) and writes a self-contained HTML report with charts plus a markdown summary. DIR defaults
to REPORTS_DIR, else reports.`;

if (import.meta.main) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        "reports-dir": { type: "string" },
        out: { type: "string" },
        markdown: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${usage}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const reportsDir = (values["reports-dir"] as string | undefined) ?? defaultReportsDir;
  const report = await generateReport({
    reportsDir,
    htmlPath: values.out as string | undefined,
    markdownPath: values.markdown as string | undefined,
  });
  console.log(report.markdown);
  console.log(`HTML report: ${resolve(report.htmlPath)}`);
  console.log(`Markdown:    ${resolve(report.markdownPath)}`);
}
