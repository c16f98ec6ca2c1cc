/**
 * The k6 version gate. The tests/load/ scripts use object spread and `??`, which k6's JavaScript
 * runtime accepts from v0.53 on; older k6 rejects the scripts before sending a request, so a
 * caller checks `k6 version` first and says what to do instead of failing with a parse error.
 *
 * @module
 */

/** The oldest k6 that runs tests/load/ (older releases reject object spread and `??`). */
export const minimumK6Version = { major: 0, minor: 53, patch: 0 } as const;

/** A k6 release number. */
export interface K6Version {
  major: number;
  minor: number;
  patch: number;
}

/** `v0.53.0` */
export function formatK6Version(v: K6Version): string {
  return `v${v.major}.${v.minor}.${v.patch}`;
}

/** Thrown when k6 cannot run the scripts: too old, or its version cannot be read. */
export class K6VersionError extends Error {
  override name = "K6VersionError";
}

/**
 * The version in `k6 version`'s output (`k6 v0.53.0 (go1.22.5, linux/amd64)`,
 * `k6 v1.3.0 (commit/…, go1.24.6, linux/amd64)`), or null when there is none.
 */
export function parseK6Version(output: string): K6Version | null {
  const match = /\bk6 v(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** Whether `v` is at least {@link minimumK6Version}. */
export function supportsScripts(v: K6Version): boolean {
  const min = minimumK6Version;
  if (v.major !== min.major) return v.major > min.major;
  if (v.minor !== min.minor) return v.minor > min.minor;
  return v.patch >= min.patch;
}

/**
 * Runs `<k6> version` and returns its version when it can run tests/load/.
 *
 * @throws {K6VersionError} naming the version found and the minimum, or why none was read.
 */
export async function checkK6Version(k6: string): Promise<K6Version> {
  const minimum = formatK6Version(minimumK6Version);
  let output: string;
  try {
    const out = await new Deno.Command(k6, {
      args: ["version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    output = `${decoder.decode(out.stdout)}\n${decoder.decode(out.stderr)}`.trim();
    if (!out.success) {
      throw new K6VersionError(`\`${k6} version\` exited ${out.code}: ${output.slice(0, 200)}`);
    }
  } catch (error) {
    if (error instanceof K6VersionError) throw error;
    throw new K6VersionError(`cannot run \`${k6} version\`: ${(error as Error).message}`);
  }
  const version = parseK6Version(output);
  if (!version) {
    throw new K6VersionError(
      `\`${k6} version\` printed no k6 version ("${output.slice(0, 120)}"); ` +
        `tests/load/ needs k6 ${minimum} or newer`,
    );
  }
  if (!supportsScripts(version)) {
    throw new K6VersionError(
      `${k6} is k6 ${formatK6Version(version)}; tests/load/ needs k6 ${minimum} or newer ` +
        `(older k6 rejects object spread and \`??\`): upgrade k6, or take it off PATH and the ` +
        `built-in driver runs the same workloads`,
    );
  }
  return version;
}
