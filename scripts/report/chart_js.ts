/**
 * The browser build of Chart.js (the version deno.json pins), as text to inline into the report
 * so it needs no network.
 *
 * The package's `exports` do not expose `dist/chart.umd.min.js`, so it is read from beside the
 * ES module entry that Deno resolved (in Deno's npm cache); the version in its banner is checked
 * against the module's `Chart.version`, so a mismatch cannot slip through.
 *
 * @module
 */
import { Chart } from "chart.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The UMD bundle's source, defining `window.Chart`.
 *
 * @throws {Error} when the bundle is missing or of another version than the module.
 */
export async function chartJsSource(): Promise<string> {
  if (cached !== undefined) return cached;
  const entry = fileURLToPath(import.meta.resolve("chart.js"));
  const path = join(dirname(entry), "chart.umd.min.js");
  const source = await Deno.readTextFile(path);
  const banner = /Chart\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 400));
  if (!banner || banner[1] !== Chart.version) {
    throw new Error(
      `${path}: expected Chart.js ${Chart.version}, found ${banner?.[1] ?? "no version banner"}`,
    );
  }
  cached = source;
  return source;
}
