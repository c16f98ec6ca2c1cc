/**
 * Locations the rollout CLI reads and writes, resolved from this file so it works from any cwd.
 *
 * @module
 */

/** The repository root (the folder holding supabase/, scripts/, deno.json). */
export const repoRoot: string = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");

/** Binaries installed by npm (deno, supabase). */
export const npmBinDir = `${repoRoot}/node_modules/.bin`;

/** Where deployment logs go (git-ignored). */
export const deploymentReportsDir = `${repoRoot}/reports/deployments`;

/** The manual traffic-routing file `flags sync` reads and writes. */
export const trafficRoutingPath = `${repoRoot}/config/traffic-routing.json`;
