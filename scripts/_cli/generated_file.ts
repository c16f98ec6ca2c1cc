/**
 * The command line of a generated file (the Grafana dashboard, the alert rules): without
 * options it writes the file; with `--check` it exits 1 when the committed file differs from a
 * fresh rendering, so CI catches a stale one.
 *
 * @module
 */
import { parseCommandLine } from "./args.ts";
import { runMain, showUsage } from "./run_main.ts";

/** What a generated file's command renders, and where. */
export interface GeneratedFile {
  /** The committed file. */
  path: string;
  /** Its text, rendered afresh. */
  render(): Promise<string>;
  /** The command that regenerates it, named when it is stale. */
  regenerate: string;
}

/** The usage of a generated file's command `regenerate`. */
export function generatedFileUsage(file: Pick<GeneratedFile, "path" | "regenerate">): string {
  return `Usage: ${file.regenerate} [--check]

Writes ${file.path}.

Options:
  --check     change nothing; exit 1 when the file is stale
  -h, --help  show this help`;
}

/**
 * Writes `file`, or (`--check`) compares it with a fresh rendering; resolves with the exit code.
 *
 * @example
 * ```ts
 * const code = await generatedFileMain(["--check"], { path, render, regenerate });
 * ```
 * @throws {UsageError} for an unknown option or any argument.
 */
export async function generatedFileMain(args: string[], file: GeneratedFile): Promise<number> {
  const { values } = parseCommandLine(args, { switches: ["check"] });
  if (values.help) return showUsage(generatedFileUsage(file));
  const text = await file.render();
  if (values.check) {
    const committed = await Deno.readTextFile(file.path).catch(() => "");
    if (committed !== text) {
      console.error(`${file.path} is stale: run ${file.regenerate}`);
      return 1;
    }
    console.log(`${file.path} is up to date`);
    return 0;
  }
  await Deno.writeTextFile(file.path, text);
  console.log(`wrote ${file.path}`);
  return 0;
}

/**
 * The whole command line of `file`: {@link generatedFileMain} with the process's arguments.
 *
 * @example
 * ```ts
 * if (import.meta.main) await runGeneratedFile({ path, render, regenerate });
 * ```
 */
export async function runGeneratedFile(file: GeneratedFile): Promise<void> {
  await runMain((args) => generatedFileMain(args, file), { usage: generatedFileUsage(file) });
}
