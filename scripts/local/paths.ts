/**
 * Locations inside the repository, resolved from this file so every tool works from any cwd.
 *
 * @module
 */
import { resolve } from "node:path";
import { fromFileUrl } from "./_path.ts";

/** The repository root (the folder holding supabase/, scripts/, deno.json). */
export const repoRoot: string = fromFileUrl(new URL("../../", import.meta.url)).replace(/\/$/, "");

/**
 * Where the local stack keeps its state: embedded Postgres data, KMS key material, stack.json.
 * `STACK_STATE_DIR` moves it (a second stack beside the first); default `.local` (git-ignored).
 */
export const localStateDir: string = resolve(
  Deno.env.get("STACK_STATE_DIR") || `${repoRoot}/.local`,
);

/**
 * Where every command writes its reports (load summaries, benches, deployment logs, the HTML
 * report). `REPORTS_DIR` moves it (relative to the working directory); default `reports`
 * (git-ignored). Absolute, because k6 and the functions run with other working directories.
 */
export const reportsDir: string = resolve(Deno.env.get("REPORTS_DIR") || `${repoRoot}/reports`);

/** The supabase/ folder (config.toml, migrations/, functions/). */
export const supabaseDir = `${repoRoot}/supabase`;

/** Binaries installed by npm (deno, supabase). */
export const npmBinDir = `${repoRoot}/node_modules/.bin`;
