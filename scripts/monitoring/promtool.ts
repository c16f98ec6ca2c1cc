/**
 * Runs Debian's `promtool` (package `prometheus`), the reference checker for rule files and
 * metric expositions.
 *
 * @module
 */

/** Thrown when the `promtool` binary is not on PATH. */
export class PromtoolMissingError extends Error {
  override name = "PromtoolMissingError";
  constructor() {
    super(
      "promtool is not on PATH: install Debian's prometheus package " +
        "(apt-get install -y prometheus), which ships promtool and prometheus",
    );
  }
}

/** Outcome of one promtool run. */
export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `promtool <args>` with `stdin` piped in when given.
 *
 * @throws {PromtoolMissingError} when promtool is not installed.
 */
export async function promtool(args: string[], stdin?: string): Promise<PromtoolResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new PromtoolMissingError();
    throw error;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
