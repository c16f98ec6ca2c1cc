/**
 * Markdown through the project's own formatter (`deno fmt`, with deno.json's settings), so a file
 * a command writes — the README's generated "Measured results" — passes `deno fmt --check` as
 * every hand-written file must.
 *
 * @module
 */
import { repoRoot } from "../local/paths.ts";

/** How long the formatter may take before it is killed. */
const formatTimeoutMs = 30_000;

/**
 * `markdown` as `deno fmt` would leave it.
 *
 * @throws {Error} when the formatter fails or does not finish within {@link formatTimeoutMs}.
 */
export async function formatMarkdown(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    signal: AbortSignal.timeout(formatTimeoutMs),
    args: ["fmt", "--ext", "md", "-"],
    cwd: repoRoot,
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const { code, signal, stdout, stderr } = await child.output();
  if (signal !== null) {
    throw new Error(`deno fmt killed by ${signal} (limit ${formatTimeoutMs} ms)`);
  }
  if (code !== 0) {
    throw new Error(`deno fmt failed (${code}): ${new TextDecoder().decode(stderr).trim()}`);
  }
  return new TextDecoder().decode(stdout);
}
