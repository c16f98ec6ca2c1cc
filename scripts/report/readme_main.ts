/**
 * `deno task readme:results`: rewrites README.md's "Measured results" section (between
 * `<!-- measured:start -->` and `<!-- measured:end -->`) from the latest JSON under reports/.
 *
 * @module
 */
import { loadSla } from "../sla/sla.ts";
import { repoRoot, reportsDir } from "../local/paths.ts";
import { machineInfo } from "../load/machine.ts";
import { readReportInputs } from "./inputs.ts";
import { renderMarkdownBody } from "./markdown.ts";
import { buildReport } from "./model.ts";
import { MeasuredMarkersError, rewriteMeasuredSection } from "./readme.ts";
import { formatMarkdown } from "./format_markdown.ts";
import { parseCommandLine } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";

const usage = `Usage: deno task readme:results [--readme README.md] [--reports-dir reports]

Rewrites the "Measured results" section of README.md from the latest JSON under reports/.

Options:
  --readme PATH       the README to rewrite           default README.md
  --reports-dir DIR   where the results are           default REPORTS_DIR, else reports
  -h, --help          show this help`;

/** Rewrites `readmePath` from `reportsDir`; returns whether the file changed. */
export async function updateReadme(
  readmePath: string,
  reportsDir: string,
  now: Date = new Date(),
): Promise<boolean> {
  const [readme, inputs, sla] = await Promise.all([
    Deno.readTextFile(readmePath),
    readReportInputs(reportsDir),
    loadSla(),
  ]);
  const model = buildReport(inputs, sla, { generatedAt: now, machine: machineInfo() });
  // Source paths relative to the checkout: the README must not name the machine's folders.
  const body = renderMarkdownBody(model, "###").replaceAll(`${repoRoot}/`, "");
  // Through the project's formatter, so the README stays `deno fmt --check` clean.
  const next = await formatMarkdown(rewriteMeasuredSection(readme, body));
  if (next === readme) return false;
  await Deno.writeTextFile(readmePath, next);
  return true;
}

/** Rewrites the README of `args`; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, { strings: ["readme", "reports-dir"] });
  if (values.help) return showUsage(usage);
  const readme = (values.readme as string | undefined) ?? "README.md";
  try {
    const changed = await updateReadme(
      readme,
      (values["reports-dir"] as string | undefined) ?? reportsDir,
    );
    console.log(changed ? `${readme}: measured results rewritten` : `${readme}: unchanged`);
    return 0;
  } catch (error) {
    if (!(error instanceof MeasuredMarkersError || error instanceof Deno.errors.NotFound)) {
      throw error;
    }
    console.error(`error: ${readme}: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) await runMain(main, { usage });
