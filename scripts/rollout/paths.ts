/**
 * Locations the rollout CLI reads and writes, resolved from the repository root so it works from
 * any cwd.
 *
 * @module
 */
import { localStateDir, npmBinDir, repoRoot, reportsDir } from "../local/paths.ts";

export { localStateDir, npmBinDir, repoRoot, reportsDir };

/** Where deployment logs go (git-ignored; under REPORTS_DIR when set). */
export const deploymentReportsDir = `${reportsDir}/deployments`;

/** The manual traffic-routing file `flags sync` reads and writes. */
export const trafficRoutingPath = `${repoRoot}/config/traffic-routing.json`;
