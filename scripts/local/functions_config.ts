/**
 * Which functions exist and how the gateway treats them, read from supabase/functions/ and
 * supabase/config.toml exactly as the Supabase CLI reads them.
 *
 * @module
 */
import { parse } from "smol-toml";
import { z } from "zod";
import { supabaseDir } from "./paths.ts";

/** One function to serve. */
export interface FunctionSpec {
  name: string;
  /** Absolute path of the entrypoint. */
  entrypoint: string;
  /** Whether the gateway requires a valid JWT (Supabase's default: true). */
  verifyJwt: boolean;
}

const functionBlock = z.object({
  enabled: z.boolean().optional(),
  verify_jwt: z.boolean().optional(),
  entrypoint: z.string().optional(),
  import_map: z.string().optional(),
}).passthrough();

const configSchema = z.object({
  functions: z.record(z.string(), functionBlock).optional(),
}).passthrough();

/**
 * Lists every folder of supabase/functions/ except `_shared` and dot/underscore folders that
 * has an entrypoint, with its `[functions.<name>]` settings.
 *
 * @throws {Error} when config.toml is malformed, naming the file.
 */
export async function discoverFunctions(dir: string = supabaseDir): Promise<FunctionSpec[]> {
  const configText = await Deno.readTextFile(`${dir}/config.toml`);
  let parsed: unknown;
  try {
    parsed = parse(configText);
  } catch (error) {
    throw new Error(`${dir}/config.toml is not valid TOML: ${(error as Error).message}`);
  }
  const config = configSchema.safeParse(parsed);
  if (!config.success) {
    throw new Error(
      `${dir}/config.toml: ${config.error.issues[0]?.path.join(".")}: ${
        config.error.issues[0]?.message
      }`,
    );
  }
  const blocks = config.data.functions ?? {};
  const specs: FunctionSpec[] = [];
  for await (const entry of Deno.readDir(`${dir}/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const block = blocks[entry.name] ?? {};
    if (block.enabled === false) continue;
    const entrypoint = block.entrypoint
      ? new URL(block.entrypoint, `file://${dir}/`).pathname
      : `${dir}/functions/${entry.name}/index.ts`;
    try {
      await Deno.stat(entrypoint);
    } catch {
      continue;
    }
    specs.push({ name: entry.name, entrypoint, verifyJwt: block.verify_jwt ?? true });
  }
  return specs.sort((a, b) => a.name.localeCompare(b.name));
}
