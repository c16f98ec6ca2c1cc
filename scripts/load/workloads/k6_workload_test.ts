// Tests of ./k6_workload.js. k6 is not installable here, so its runtime modules (k6,
// k6/http, k6/execution, k6/metrics) are stood in for by small recording doubles, mapped in by an
// import map in a child Deno process; the script under test runs unmodified.
import { assert, assertEquals, assertStringIncludes } from "../../../tests/support/assert.ts";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

const fakes: Record<string, string> = {
  "k6.js": `export function check(value, checks) {
  for (const [name, pass] of Object.entries(checks)) globalThis.k6.checks.push([name, pass(value)]);
  return true;
}`,
  "execution.js": `export default {
  get scenario() { return globalThis.k6.scenario; },
  get vu() { return { idInTest: 1 }; },
};`,
  "http.js": `export default {
  post(url, body, params) {
    globalThis.k6.posts.push({ url, body: JSON.parse(body), params });
    return {
      status: 200,
      headers: { "X-Search-Path": "optimized", "X-Cache": "miss" },
      timings: { duration: 7 },
    };
  },
  get() { throw new Error("no REST API in this test"); },
};`,
  "metrics.js": `class Metric {
  constructor(name) { this.name = name; }
  add(value) { (globalThis.k6.samples[this.name] ??= []).push(Number(value)); }
}
export class Counter extends Metric {}
export class Rate extends Metric {}
export class Trend extends Metric {}`,
};

/** Runs `body` (JavaScript, `k6Workload` in scope) with the k6 doubles; returns what it printed. */
async function withFakeK6(body: string): Promise<unknown> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(fakes)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const map = {
      imports: {
        "k6": `file://${dir}/k6.js`,
        "k6/execution": `file://${dir}/execution.js`,
        "k6/http": `file://${dir}/http.js`,
        "k6/metrics": `file://${dir}/metrics.js`,
      },
    };
    await Deno.writeTextFile(`${dir}/import_map.json`, JSON.stringify(map));
    await Deno.writeTextFile(
      `${dir}/main.js`,
      `globalThis.k6 = { checks: [], posts: [], samples: {}, scenario: null };
const { k6Workload } = await import("file://${root}scripts/load/workloads/k6_workload.js");
const sla = Deno.readTextFileSync("${root}config/sla.json");
${body}`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", `--import-map=${dir}/import_map.json`, "-A", `${dir}/main.js`],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_PACKAGE_JSON: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const routes = JSON.stringify([{ origin: "AAA", destination: "BBB", departureDate: "2027-01-05" }]);
const env = `{ SUPABASE_URL: "http://127.0.0.1:9", SUPABASE_ANON_KEY: "anon" }`;

Deno.test("k6Workload() iterations under k6's own --vus/--duration (the `default` scenario) send the first phase's searches", async () => {
  const result = await withFakeK6(`
const w = k6Workload("baseline", { sla, routes: ${JSON.stringify(routes)}, env: ${env} });
const data = { routes: JSON.parse(${JSON.stringify(routes)}), seed: 7 };
for (let i = 0; i < 3; i++) {
  globalThis.k6.scenario = { name: "default", iterationInTest: i };
  w.iteration(data);
}
console.log(JSON.stringify({ posts: globalThis.k6.posts, samples: globalThis.k6.samples, checks: globalThis.k6.checks }));
`) as {
    posts: {
      url: string;
      body: Record<string, unknown>;
      params: { headers: Record<string, string> };
    }[];
    samples: Record<string, number[]>;
    checks: [string, boolean][];
  };
  assertEquals(result.posts.length, 3);
  for (const post of result.posts) {
    assertStringIncludes(post.url, "/functions/v1/flight-search");
    assertEquals(post.body.origin, "AAA");
    assertEquals(post.params.headers["x-session-id"], "load-7-vu-1");
  }
  assertEquals(result.samples.search_optimized, [1, 1, 1]);
  assertEquals(result.samples.server_errors, [0, 0, 0]);
  assert(result.checks.length > 0 && result.checks.every(([, ok]) => ok), "checks ran and held");
});

Deno.test("k6Workload() sweep: a session per request, per-level and per-path thresholds that fail on no samples", async () => {
  const result = await withFakeK6(`
const w = k6Workload("sweep", { sla, routes: ${JSON.stringify(routes)}, env: ${env} });
const data = { routes: JSON.parse(${JSON.stringify(routes)}), seed: 7 };
for (let i = 0; i < 2; i++) {
  globalThis.k6.scenario = { name: "concurrency_1", iterationInTest: i };
  w.iteration(data);
}
console.log(JSON.stringify({
  sessions: globalThis.k6.posts.map((p) => p.params.headers["x-session-id"]),
  thresholds: w.options.thresholds,
}));
`) as { sessions: string[]; thresholds: Record<string, string[]> };
  assertEquals(result.sessions, ["load-7-vu-1-req-0", "load-7-vu-1-req-1"]);
  assertEquals(result.thresholds.http_reqs, ["count>0"]);
  for (const level of [1, 5, 10, 50]) {
    for (const counter of ["http_reqs", "search_legacy", "search_optimized"]) {
      assertEquals(result.thresholds[`${counter}{concurrency:${level}}`], ["count>0"]);
    }
  }
});
