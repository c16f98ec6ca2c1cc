/**
 * `deno task readme:results`: rewrites README.md's "Measured results" section (between
 * `<!-- measured:start -->` and `<!-- measured:end -->`) from the latest JSON under reports/.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadSla } from "../sla/sla.ts";
import { repoRoot, reportsDir } from "../local/paths.ts";
import { machineInfo } from "../load/machine.ts";
import { readReportInputs } from "./inputs.ts";
import { renderMarkdownBody } from "./markdown.ts";
import { buildReport } from "./model.ts";
import { MeasuredMarkersError, rewriteMeasuredSection } from "./readme.ts";

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
  const next = rewriteMeasuredSection(readme, body);
  if (next === readme) return false;
  await Deno.writeTextFile(readmePath, next);
  return true;
}

if (import.meta.main) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: { readme: { type: "string" }, "reports-dir": { type: "string" } },
      strict: true,
    }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    console.error("Usage: deno task readme:results [--readme README.md] [--reports-dir reports]");
    Deno.exit(2);
  }
  const readme = (values.readme as string | undefined) ?? "README.md";
  try {
    const changed = await updateReadme(
      readme,
      (values["reports-dir"] as string | undefined) ?? reportsDir,
    );
    console.log(changed ? `${readme}: measured results rewritten` : `${readme}: unchanged`);
  } catch (error) {
    if (!(error instanceof MeasuredMarkersError || error instanceof Deno.errors.NotFound)) {
      throw error;
    }
    console.error(`error: ${readme}: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
