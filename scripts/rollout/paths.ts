/**
 * Locations the rollout CLI reads and writes, resolved from the repository root so it works from
 * any cwd.
 *
 * @module
 */
import { localStateDir, npmBinDir, repoRoot } from "../local/paths.ts";

export { localStateDir, npmBinDir, repoRoot };

/** Where deployment logs go (git-ignored). */
export const deploymentReportsDir = `${repoRoot}/reports/deployments`;

/** The manual traffic-routing file `flags sync` reads and writes. */
export const trafficRoutingPath = `${repoRoot}/config/traffic-routing.json`;
