/**
 * The built-in driver's load generator: a Node program (autocannon is one) that scripts/load/
 * driver.ts spawns. It reads a plan as JSON on stdin, runs it with autocannon one run after the
 * other, and writes every response's figures as JSON on stdout. Aggregation, thresholds and the
 * summary are the Deno side's job; this file only sends requests and records what came back.
 *
 * Why a separate Node process rather than autocannon inside Deno: the load generator must not
 * share an event loop with the code under test or with the test that starts it, autocannon is
 * a Node program tuned for Node's sockets, and the version is the one package.json pins
 * (node_modules/autocannon), not a second copy in Deno's cache.
 *
 * Each autocannon connection is one virtual user: closed-loop, one request in flight. Request
 * bodies come from scripts/load/workloads/search_mix.js (the same search mix the k6 scripts send);
 * responses are classified by scripts/load/workloads/response.js.
 *
 * stdin:  { url, anonKey, seed, duplication, phaseCount, sessions, routes, timeoutS,
 *           runs: [{ phaseIndex, connections, durationS, overallRate?, vuOffset }] }
 * stdout: { runs: [{ phaseIndex, startedAt, endedAt, errors, unmatched,
 *           status: number[], durationMs: number[], path: number[], cache: number[] }] }
 *         path codes: 0 none, 1 legacy, 2 optimized; cache codes: 0 none, 1 l1, 2 l2, 3 miss.
 *
 * @module
 */
import { createRequire } from "node:module";
import process from "node:process";
import { searchBody, searchFor, sessionId } from "./workloads/search_mix.js";
import { classify, headerLookup, requestHeaders } from "./workloads/response.js";

const require = createRequire(import.meta.url);
// A literal require("autocannon") would make `deno check` resolve the package through
// package.json when it type-checks this folder; Node does not care how the name is spelled.
const autocannonPackage = "autocannon";
const autocannon = require(autocannonPackage);

const pathCode = { legacy: 1, optimized: 2 };
const cacheCode = { l1: 1, l2: 2, miss: 3 };

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/**
 * Runs one autocannon run and resolves with its records.
 * @param {any} plan
 * @param {any} run
 * @param {Map<number, number>} iterations next iteration number per phase (shared by its runs)
 */
function execute(plan, run, iterations) {
  return new Promise((resolve, reject) => {
    const mix = {
      routes: plan.routes,
      duplication: plan.duplication,
      seed: plan.seed,
      phaseCount: plan.phaseCount,
    };
    const record = {
      phaseIndex: run.phaseIndex,
      startedAt: new Date().toISOString(),
      endedAt: "",
      errors: 0,
      unmatched: 0,
      status: [],
      durationMs: [],
      path: [],
      cache: [],
    };
    const states = new WeakMap();
    let nextVu = run.vuOffset;

    const instance = autocannon({
      url: plan.url,
      method: "POST",
      connections: run.connections,
      duration: run.durationS,
      pipelining: 1,
      timeout: plan.timeoutS,
      ...(run.overallRate ? { overallRate: run.overallRate } : {}),
      // Each connection gets its own VU number and its own request, whose body is built afresh
      // for every request it sends.
      setupClient(client) {
        const state = { vu: ++nextVu, last: null };
        states.set(client, state);
        client.setRequests([{
          method: "POST",
          setupRequest(request) {
            const iteration = iterations.get(run.phaseIndex) ?? 0;
            iterations.set(run.phaseIndex, iteration + 1);
            const search = searchFor(mix, run.phaseIndex, iteration);
            return {
              ...request,
              headers: requestHeaders(
                plan.anonKey,
                sessionId(
                  plan.seed,
                  state.vu,
                  plan.sessions === "request" ? iteration : undefined,
                ),
              ),
              body: JSON.stringify(searchBody(search)),
            };
          },
          onResponse(status, _body, _context, headers) {
            state.last = classify(status, headerLookup(headers ?? {}));
          },
        }]);
      },
    }, (error) => {
      record.endedAt = new Date().toISOString();
      if (error) reject(error);
      else resolve(record);
    });

    // autocannon calls onResponse and then emits `response` (with the duration) synchronously
    // for the same response, so the classification waiting in the client's state is this one.
    instance.on("response", (client, statusCode, _bytes, responseTime) => {
      const state = states.get(client);
      const c = state?.last;
      if (!c || c.status !== statusCode) {
        record.unmatched += 1;
        return;
      }
      state.last = null;
      record.status.push(statusCode);
      record.durationMs.push(Math.round(responseTime * 1000) / 1000);
      record.path.push(c.path ? pathCode[c.path] : 0);
      record.cache.push(c.cache ? cacheCode[c.cache] : 0);
    });
    instance.on("reqError", () => {
      record.errors += 1;
    });
  });
}

const plan = await readStdin();
const iterations = new Map();
const runs = [];
for (const run of plan.runs) {
  process.stderr.write(
    `run phase ${run.phaseIndex}: ${run.connections} connections, ${run.durationS} s` +
      (run.overallRate ? `, ${run.overallRate} req/s` : "") + "\n",
  );
  runs.push(await execute(plan, run, iterations));
}
process.stdout.write(JSON.stringify({ runs }));
