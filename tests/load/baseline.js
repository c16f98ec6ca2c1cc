// @ts-check
/**
 * k6 load test: the `baseline` workload of scripts/load/workloads/workloads.js.
 *
 *   SUPABASE_URL=... SUPABASE_ANON_KEY=... ROUTES_FILE=$PWD/reports/load/routes.json \
 *     k6 run tests/load/baseline.js
 *
 * See ./README.md for the environment variables.
 */
import { k6Workload } from "../../scripts/load/workloads/k6_workload.js";

const workload = k6Workload("baseline", {
  sla: open("../../config/sla.json"),
  routes: __ENV.ROUTES_FILE ? open(__ENV.ROUTES_FILE) : undefined,
  env: __ENV,
});

export const options = workload.options;
export const setup = workload.setup;
export const handleSummary = workload.handleSummary;
export default workload.iteration;
