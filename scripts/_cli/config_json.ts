/**
 * A JSON configuration file read the one way: parsed, validated with zod, and refused with the
 * project's `ConfigError` (exit 2 in every command line) naming the file and the first invalid
 * field.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";

/**
 * Parses a JSON configuration file's text with `schema`.
 *
 * @example
 * ```ts
 * const routing = parseConfigJson(fileSchema, await Deno.readTextFile(path), path);
 * ```
 * @throws {ConfigError} naming `path` and, for a schema mismatch, the first invalid field.
 */
export function parseConfigJson<S extends z.ZodType>(
  schema: S,
  text: string,
  path: string,
): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}
