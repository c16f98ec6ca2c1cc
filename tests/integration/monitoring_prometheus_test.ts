import { stringify } from "yaml";
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startStack } from "../../scripts/local/stack.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { alertRulesPath } from "../../scripts/monitoring/alert_rules.ts";
import { metricNames } from "../../supabase/functions/metrics/exposition.ts";
import {
  histogram,
  insertRows,
  metricRow,
  readBounds,
  seededRandom,
} from "./monitoring_fixtures.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Prometheus {
  url: string;
  logTail(): string;
  stop(): Promise<void>;
}

/** Starts Debian's `prometheus` on a free loopback port with `config`, storage in a temp dir. */
async function startPrometheus(config: unknown): Promise<Prometheus> {
  const dir = await Deno.makeTempDir({ prefix: "pf-prometheus-" });
  await Deno.writeTextFile(`${dir}/prometheus.yml`, stringify(config));
  const port = freePort();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "prometheus is not on PATH: install Debian's prometheus package (apt-get install -y prometheus)",
      );
    }
    throw error;
  }
  let log = "";
  const decoder = new TextDecoder();
  const drain = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(
      new WritableStream({
        write(chunk) {
          log = (log + decoder.decode(chunk)).slice(-4000);
        },
      }),
    ).catch(() => {});
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor(async () => (await fetchText(`${url}/-/ready`))?.status === 200, 30_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}: prometheus did not become ready\n${log}`);
  }
  return { url, logTail: () => log, stop };
}

async function fetchText(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url);
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** Polls `probe` every 200 ms until it is true; bounded by `timeoutMs`. */
async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prometheus: Prometheus, promql: string): Promise<Vector[]> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json();
  assertEquals(body.status, "success", JSON.stringify(body));
  return body.data.result as Vector[];
}

Deno.test(
  "metrics function: a real Prometheus scrapes it through the gateway and finds its series",
  opts,
  async () => {
    const t = await testDatabase({ seeded: false });
    const bounds = await readBounds(t.sql);
    const random = seededRandom(42);
    for (const path of ["legacy", "optimized"] as const) {
      const latencies = Array.from(
        { length: 500 },
        () => 5 + random() * (path === "legacy" ? 900 : 120),
      );
      await insertRows(t.sql, [metricRow(bounds, {
        path,
        requests: latencies.length,
        server_errors: 3,
        latency_sum_ms: latencies.reduce((a, b) => a + b, 0),
        latency_buckets: histogram(latencies, bounds.latencyMs),
        db_queries: path === "legacy" ? 1500 : 12,
      })]);
    }
    const stack = await startStack({
      databaseUrl: t.url,
      port: 0,
      seedFlights: false,
      functions: ["metrics"],
    });
    let prometheus: Prometheus | undefined;
    try {
      const endpoint = `${stack.functionsUrl}/metrics`;
      const anonymous = await fetch(endpoint);
      assertEquals(anonymous.status, 401, "no bearer secret: 401");
      await anonymous.body?.cancel();
      // The stack generated the secret and gave it to the function; it is long and random.
      const token = stack.metricsBearerToken;
      assert(/^[0-9a-f]{64}$/.test(token), "64 random hex characters");
      const wrong = await fetch(endpoint, {
        headers: { authorization: `Bearer ${"0".repeat(64)}` },
      });
      assertEquals(wrong.status, 401, "a wrong bearer secret: 401");
      await wrong.body?.cancel();

      const target = new URL(stack.url);
      prometheus = await startPrometheus({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: [alertRulesPath],
        scrape_configs: [{
          job_name: "parker-metrics",
          metrics_path: "/functions/v1/metrics",
          authorization: { type: "Bearer", credentials: token },
          static_configs: [{ targets: [target.host] }],
        }],
      });
      const p = prometheus;
      const requests = `${metricNames.requests}{function="flight-search",path="optimized"}`;
      await waitFor(async () => (await query(p, requests)).length === 1, 30_000)
        .catch((error) => {
          throw new Error(`${error.message}; prometheus log:\n${p.logTail()}`);
        });

      const [up] = await query(p, 'up{job="parker-metrics"}');
      assertEquals(up?.value[1], "1", "the scrape succeeds");
      const [found] = await query(p, requests);
      const [totals] = await t.sql`
        select requests from monitoring.function_totals
        where function_name = 'flight-search' and path = 'optimized'`;
      assertEquals(Number(found!.value[1]), Number(totals!.requests));

      // Prometheus's own histogram_quantile over the scraped buckets agrees with the SQL one.
      for (const path of ["legacy", "optimized"]) {
        const [promP95] = await query(
          p,
          `histogram_quantile(0.95, sum by (le) (${metricNames.requestDuration}_bucket{path="${path}"}))`,
        );
        const [sqlP95] = await t.sql`
          select monitoring.histogram_quantile(0.95, monitoring.latency_bounds_ms(), latency_buckets)
            as p95_ms
          from monitoring.function_totals where function_name = 'flight-search' and path = ${path}`;
        const seconds = Number(promP95!.value[1]);
        assert(
          Math.abs(seconds * 1000 - sqlP95!.p95_ms) < 1e-6,
          `${path}: Prometheus p95 ${seconds * 1000} ms, SQL p95 ${sqlP95!.p95_ms} ms`,
        );
      }

      // The generated alert rules load into the real server and evaluate without error.
      await waitFor(async () => {
        const res = await fetch(`${p.url}/api/v1/rules`);
        const rules = (await res.json()).data.groups.flatMap((g: { rules: unknown[] }) => g.rules);
        return rules.length > 0 &&
          rules.every((r: { health: string; lastEvaluation: string }) =>
            r.health === "ok" && !r.lastEvaluation.startsWith("0001")
          );
      }, 15_000);
    } finally {
      await prometheus?.stop();
      await stack.stop();
      await t.drop();
    }
  },
);
