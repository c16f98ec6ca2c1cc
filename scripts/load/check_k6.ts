/**
 * Type-checks the k6 scripts of tests/load/, and every file they import by a relative path (the
 * workloads of scripts/load/workloads/), against `@types/k6` (the version pinned in deno.json)
 * with only the ECMAScript library in scope, and checks their imports, so a script that uses a
 * Node or Deno API, or a k6 API wrongly, fails here rather than under k6.
 *
 * `deno task check:k6` runs it; scripts/load/check_k6_test.ts runs it in CI.
 *
 * How: `deno check` with a throw-away config whose import map sends `k6` and `k6/...` to the
 * type package, `checkJs` on, and `lib: ["es2020"]` (no `Deno`, no DOM; `fetch`, `process`,
 * `require` and `TextEncoder` are undeclared — as in k6). k6 runs ES2020-level JavaScript, so
 * newer library calls (`Object.hasOwn`, `String#replaceAll`, ...) fail the check as well.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";

/** The repository root. */
const root = fileURLToPath(new URL("../../", import.meta.url));

/** What {@link checkK6Scripts} found. */
export interface K6CheckResult {
  /** True when every script type-checks and imports only k6 modules and relative files. */
  ok: boolean;
  /** The files checked (absolute paths): the scripts and what they import. */
  files: string[];
  /** Import problems, one line each: `<file>: imports "<specifier>"`. */
  importProblems: string[];
  /** `deno check` output (empty when clean). */
  output: string;
}

/** Options of {@link checkK6Scripts}. */
export interface K6CheckOptions {
  /** Folder of the k6 scripts. @default tests/load of the repository */
  dir?: string;
  /** deno.json whose `@types/k6` import pins the type package. @default the repository's */
  denoJson?: string;
}

async function jsFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await jsFiles(path));
    else if (entry.isFile && entry.name.endsWith(".js")) files.push(path);
  }
  return files.sort();
}

const importPattern =
  /(?:^|[\s;])(?:import|export)\s*(?:[\w*{}\s,]+from\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\brequire\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Specifiers a k6 script may import: k6's own modules and relative files. */
export function allowedK6Import(specifier: string): boolean {
  return specifier === "k6" || specifier.startsWith("k6/") || specifier.startsWith("./") ||
    specifier.startsWith("../");
}

/** Every import specifier in JavaScript source, including `require()` and dynamic `import()`. */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier !== undefined) found.push(specifier);
  }
  return found;
}

/**
 * The source of every `.js` file under `dir` and of every existing file they import by a relative
 * path, transitively, by absolute path (a missing one is left for `deno check` to report).
 */
async function k6Sources(dir: string): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  const pending = await jsFiles(dir);
  for (let file = pending.shift(); file !== undefined; file = pending.shift()) {
    if (sources.has(file)) continue;
    let source: string;
    try {
      source = await Deno.readTextFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    sources.set(file, source);
    for (const specifier of importSpecifiers(source)) {
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        pending.push(join(dirname(file), specifier));
      }
    }
  }
  return sources;
}

/**
 * Type-checks and import-checks every `.js` file under `dir` and the files they import.
 *
 * @throws {Error} when deno.json has no `@types/k6` import.
 */
export async function checkK6Scripts(options: K6CheckOptions = {}): Promise<K6CheckResult> {
  const { dir = join(root, "tests/load"), denoJson = join(root, "deno.json") } = options;
  const config = JSON.parse(await Deno.readTextFile(denoJson)) as {
    imports?: Record<string, string>;
  };
  const types = config.imports?.["@types/k6"];
  if (!types?.startsWith("npm:@types/k6@")) {
    throw new Error(`${denoJson} has no "@types/k6": "npm:@types/k6@<version>" import`);
  }
  const sources = await k6Sources(dir);
  const files = [...sources.keys()].sort();
  const importProblems: string[] = [];
  // Import maps cannot map a prefix onto an npm: specifier, so each k6 module in use (JSDoc
  // `import("k6/...")` types included) gets its own entry.
  const k6Modules: Record<string, string> = { k6: types };
  for (const file of files) {
    for (const specifier of importSpecifiers(sources.get(file) ?? "")) {
      if (!allowedK6Import(specifier)) importProblems.push(`${file}: imports "${specifier}"`);
      if (specifier.startsWith("k6/")) k6Modules[specifier] = `${types}/${specifier.slice(3)}`;
    }
  }

  const tmp = await Deno.makeTempDir({ prefix: "k6-check-" });
  try {
    const checkConfig = join(tmp, "deno.json");
    await Deno.writeTextFile(
      checkConfig,
      JSON.stringify({
        imports: k6Modules,
        compilerOptions: {
          checkJs: true,
          strict: true,
          noImplicitReturns: true,
          noUncheckedIndexedAccess: true,
          lib: ["es2020"],
        },
      }),
    );
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--no-lock", "--config", checkConfig, ...files],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const decoder = new TextDecoder();
    const output = (decoder.decode(result.stdout) + decoder.decode(result.stderr)).trim();
    return { ok: result.success && importProblems.length === 0, files, importProblems, output };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const usage = `Usage: deno task check:k6

Type-checks the k6 scripts of tests/load/ against @types/k6 and checks their imports; exits 1
when one fails.

Options:
  -h, --help  show this help`;

/** Checks the k6 scripts; resolves with the exit code. */
async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {});
  if (values.help) return showUsage(usage);
  const result = await checkK6Scripts();
  for (const problem of result.importProblems) {
    console.error(`not allowed in a k6 script: ${problem}`);
  }
  if (result.output) console.error(result.output);
  console.log(
    `${result.ok ? "ok" : "FAILED"}: ${result.files.length} k6 scripts checked against @types/k6`,
  );
  return result.ok ? 0 : 1;
}

if (import.meta.main) await runMain(main, { usage });
