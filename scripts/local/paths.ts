/**
 * Locations inside the repository, resolved from this file so every tool works from any cwd.
 *
 * @module
 */
import { fromFileUrl } from "./_path.ts";

/** The repository root (the folder holding supabase/, scripts/, deno.json). */
export const repoRoot: string = fromFileUrl(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** Where the local stack keeps its state (git-ignored). */
export const localStateDir = `${repoRoot}/.local`;

/** The supabase/ folder (config.toml, migrations/, functions/). */
export const supabaseDir = `${repoRoot}/supabase`;

/** Binaries installed by npm (deno, supabase). */
export const npmBinDir = `${repoRoot}/node_modules/.bin`;
