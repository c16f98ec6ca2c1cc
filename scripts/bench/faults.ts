/**
 * `deno task bench:faults`: dependency faults under load, against a local stack of its own (the
 * gateway and the functions in their isolates, an embedded Postgres 17, a redis-server behind the
 * Upstash bridge, the KMS endpoint behind a proxy that can hang).
 *
 * Faults, one after another, each under `concurrency` clients that keep sending requests:
 *
 * - `postgres_freeze` — SIGSTOP on the postmaster and every child for `fault-ms`, then SIGCONT;
 * - `postgres_kill` — SIGKILL on all of them, then a restart by this benchmark (the stack's own
 *   supervision is not relied on here);
 * - `redis_freeze` — SIGSTOP on the redis-server, then SIGCONT;
 * - `kms_hang` — the KMS endpoint accepts connections and never answers, then answers again.
 *
 * Searches ask for a cached answer (`cached-share`) or a new one; payment-methods creates cards.
 * Per fault: requests tried, the share answered within the budget (plus a margin), the status
 * histogram, p50/p99, when the breaker opened, how fast an open breaker answers, and how long
 * after the fault ended the first cache-missing request got 200.
 *
 * Writes `$REPORTS_DIR/bench/faults.json` and `.md` (REPORTS_DIR defaults to `reports`).
 *
 * @module
 */
import { SignJWT } from "jose";
import postgres from "postgres";
import { z } from "zod";
import { describeMachine, machineInfo } from "../load/machine.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../local/embedded_postgres.ts";
import { startKmsServer } from "../local/kms_server.ts";
import { repoRoot } from "../local/paths.ts";
import { freePort } from "../local/ports.ts";
import { startRedis } from "../local/redis.ts";
import { type Stack, startStack } from "../local/stack.ts";
import { popularRoutes } from "../seed/seed.ts";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import { benchCommand, type BenchTarget } from "./bench_run.ts";
import { type Answer, ask, quantile, statusHistogram, waitFor } from "./fault_probe.ts";
import {
  type FaultResult,
  faultsMarkdown,
  type FaultsReport,
  faultsReportSchema,
} from "./faults_report.ts";
import { startHangProxy } from "./hang_proxy.ts";

const usage = `Usage: deno task bench:faults [options]

  --concurrency N     concurrent clients during each fault               default 8
  --fault-ms MS       how long each fault is held                         default 6000
  --cached-share X    share of searches asking for a cached answer, 0..1  default 0.2
  --only LIST         faults to run: postgres_freeze,postgres_kill,redis_freeze,kms_hang
  --out DIR           where faults.json and faults.md go      default $REPORTS_DIR/bench
  -h, --help
`;

const faultNames = ["postgres_freeze", "postgres_kill", "redis_freeze", "kms_hang"] as const;
type FaultName = (typeof faultNames)[number];

const optionsSchema = z.object({
  concurrency: z.coerce.number().int().min(1).max(200).default(8),
  faultMs: z.coerce.number().int().min(500).max(120_000).default(6000),
  cachedShare: z.coerce.number().min(0).max(1).default(0.2),
  only: z.string().optional().transform((s, ctx) => {
    const list = s ? s.split(",").map((x) => x.trim()) : [...faultNames];
    for (const name of list) {
      if (!(faultNames as readonly string[]).includes(name)) {
        ctx.addIssue({ code: "custom", message: `unknown fault ${name}` });
      }
    }
    return list as FaultName[];
  }),
  out: z.string().min(1),
});
type Options = z.output<typeof optionsSchema>;

/** Budgets of the functions under load (their defaults) and the margin allowed on top. */
const searchBudgetMs = 3000;
const paymentBudgetMs = 5000;
const marginMs = 1000;
/** Longest a client waits for any answer; beyond it the request counts as unanswered (0). */
const giveUpMs = 20_000;

interface Timed extends Answer {
  /** Start, ms after the fault began (negative before). */
  at: number;
  miss: boolean;
}

/** Clients that keep sending `next()` requests until stopped. */
function loadClients(
  concurrency: number,
  next: () => { url: string; init: RequestInit; miss: boolean },
  origin: () => number,
) {
  const answers: Timed[] = [];
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const { url, init, miss } = next();
      const at = performance.now() - origin();
      const answer = await ask(url, init.headers ?? {}, giveUpMs, init);
      answers.push({ ...answer, at, miss });
      if (answer.status === 0 || answer.status >= 500) await sleep(20); // as a polite client
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === tree[i]) {
          tree.push(Number(entry.name));
        }
      } catch {
        // exited meanwhile
      }
    }
  }
  return tree;
}

function signalAll(pids: number[], signal: Deno.Signal): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

interface Fault {
  name: FaultName;
  label: string;
  fn: "flight-search" | "payment-methods";
  budgetMs: number;
  inject(): Promise<void>;
  /** Ends the fault; resolves when what the benchmark itself must do is done. */
  heal(): Promise<void>;
  breakerOpen?: () => Promise<boolean>;
}

async function runFault(
  fault: Fault,
  options: Options,
  next: () => { url: string; init: RequestInit; miss: boolean },
): Promise<FaultResult> {
  console.error(`fault ${fault.name}: ${fault.label}`);
  let faultAt = performance.now() + 1e9;
  const clients = loadClients(options.concurrency, next, () => faultAt);
  await sleep(1000);
  faultAt = performance.now();
  await fault.inject();
  let breakerOpenAfterMs: number | null = null;
  let polling = true;
  const poll = (async () => {
    while (polling && fault.breakerOpen) {
      if (breakerOpenAfterMs === null && await fault.breakerOpen().catch(() => false)) {
        breakerOpenAfterMs = performance.now() - faultAt;
      }
      await sleep(100);
    }
  })();
  await sleep(options.faultMs);
  const healAt = performance.now() - faultAt;
  await fault.heal();
  const recovered = await waitFor(
    () =>
      Promise.resolve(
        clients.answers.some((a) => a.miss && a.status >= 200 && a.status < 300 && a.at >= healAt),
      ),
    30_000,
    50,
  );
  polling = false;
  await poll;
  await clients.stop();

  const during = clients.answers.filter((a) => a.at >= 0);
  const firstOk =
    during.filter((a) => a.miss && a.status >= 200 && a.status < 300 && a.at >= healAt)
      .map((a) => a.at + a.ms).sort((x, y) => x - y)[0];
  const latencies = during.map((a) => a.ms);
  const within = during.filter((a) => a.status !== 0 && a.ms <= fault.budgetMs + marginMs);
  // The function's own time (server-timing) of the 503s an open breaker gave: fast ones, while
  // the fault lasted. Functions without server-timing report none.
  const fastRefusals = during.filter((a) =>
    a.status === 503 && a.serverMs !== undefined && a.serverMs < 100 && a.at < healAt
  ).map((a) => a.serverMs!);
  const nullable = (v: number) => Number.isFinite(v) ? Math.round(v * 10) / 10 : null;
  return {
    name: fault.name,
    label: fault.label,
    function: fault.fn,
    budgetMs: fault.budgetMs,
    faultMs: Math.round(healAt),
    requests: during.length,
    withinBudgetPct: during.length === 0 ? 0 : (100 * within.length) / during.length,
    marginMs,
    statusHistogram: statusHistogram(during),
    errorCodes: codeHistogram(during),
    p50Ms: nullable(quantile(latencies, 0.5)),
    p99Ms: nullable(quantile(latencies, 0.99)),
    maxMs: nullable(Math.max(...latencies)),
    breakerOpenAfterMs: breakerOpenAfterMs === null ? null : Math.round(breakerOpenAfterMs),
    openBreakerP50Ms: nullable(quantile(fastRefusals, 0.5)),
    recoveredAfterMs: recovered === null || firstOk === undefined
      ? null
      : Math.round(Math.max(0, firstOk - healAt)),
  };
}

function codeHistogram(answers: readonly Answer[]): Record<string, number> {
  const histogram: Record<string, number> = {};
  for (const a of answers) if (a.code) histogram[a.code] = (histogram[a.code] ?? 0) + 1;
  return histogram;
}

function targets(results: FaultResult[]): BenchTarget[] {
  const out: BenchTarget[] = [];
  for (const r of results) {
    const fives = r.statusHistogram["500"] ?? 0;
    out.push({
      name: `${r.name}: no 500, every request answered within budget + ${r.marginMs} ms`,
      goal: "0 × 500, 100 %",
      measured: `${fives} × 500, ${r.withinBudgetPct.toFixed(1)} %`,
      met: fives === 0 && r.withinBudgetPct === 100,
    });
    if (r.name === "postgres_kill") {
      out.push({
        name: "postgres_kill: 200 again after the restart",
        goal: "≤ 30000 ms",
        measured: r.recoveredAfterMs === null ? "never" : `${r.recoveredAfterMs} ms`,
        met: r.recoveredAfterMs !== null && r.recoveredAfterMs <= 30_000,
      });
    }
    if (r.openBreakerP50Ms !== null) {
      out.push({
        name: `${r.name}: an open breaker answers fast (p50)`,
        goal: "< 50 ms",
        measured: `${r.openBreakerP50Ms} ms`,
        met: r.openBreakerP50Ms < 50,
      });
    }
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    strings: ["concurrency", "fault-ms", "cached-share", "only", "out"],
  });
  if (values.help) return showUsage(usage);
  const options = validateOptions(optionsSchema, {
    ...camelKeys(values),
    out: values.out ?? `${Deno.env.get("REPORTS_DIR") ?? `${repoRoot}/reports`}/bench`,
  });
  const startedAt = new Date().toISOString();
  const results = await runAll(options);
  const report: FaultsReport = faultsReportSchema.parse({
    meta: {
      startedAt,
      endedAt: new Date().toISOString(),
      machine: machineInfo(),
      command: benchCommand("bench:faults", args),
    },
    settings: {
      concurrency: options.concurrency,
      faultMs: options.faultMs,
      cachedShare: options.cachedShare,
    },
    results,
    targets: targets(results),
  });
  const md = faultsMarkdown(report);
  await Deno.mkdir(options.out, { recursive: true });
  await Deno.writeTextFile(`${options.out}/faults.json`, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(`${options.out}/faults.md`, md);
  console.log(md);
  console.error(`${describeMachine(report.meta.machine)}`);
  console.error(`wrote ${options.out}/faults.json and ${options.out}/faults.md`);
  return 0;
}

async function runAll(options: Options): Promise<FaultResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "pf-bench-faults-" });
  const dbPort = freePort();
  const startPg = () =>
    startEmbeddedPostgres({ dataDir: `${dir}/pg`, port: dbPort, ephemeral: true });
  let pg: EmbeddedPostgres = await startPg();
  const redis = await startRedis({ env: {} });
  const kms = await startKmsServer({});
  const kmsProxy = startHangProxy(Number(new URL(kms.url).port));
  let stack: Stack | undefined;
  try {
    // The stack uses this Redis (REDIS_URL) and this KMS (through the proxy), so both can fail.
    const previousRedisUrl = Deno.env.get("REDIS_URL");
    Deno.env.set("REDIS_URL", redis.url);
    stack = await startStack({
      databaseUrl: pg.url,
      port: 0,
      seedFlights: 2000,
      functions: ["flight-search", "payment-methods"],
      kms: false,
      env: {
        ...kms.env,
        KMS_ENDPOINT: `${new URL(kms.url).protocol}//127.0.0.1:${kmsProxy.port}`,
        FLIGHT_SEARCH_FORCE_PATH: "optimized",
      },
      log: (line) => console.error(`stack: ${line}`),
      onFunctionLog: (name, line) => console.error(`${name}: ${line}`),
    }).finally(() => {
      if (previousRedisUrl === undefined) Deno.env.delete("REDIS_URL");
      else Deno.env.set("REDIS_URL", previousRedisUrl);
    });
    const s = stack;
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const routes = await popularRoutes(admin, 60);
    await admin.end();
    const searchBase = `${s.functionsUrl}/flight-search`;
    const anon = { authorization: `Bearer ${s.anonKey}` };
    let variant = 0;
    const search = () => {
      const cached = Math.random() < options.cachedShare;
      const r = routes[cached ? variant % 5 : variant % routes.length]!;
      const passengers = cached ? 1 : 1 + (Math.floor(variant / routes.length) % 9);
      const cabin = cached ? "economy" : ["economy", "premium_economy", "business", "first"][
        Math.floor(variant / (routes.length * 9)) % 4
      ];
      variant++;
      return {
        url: `${searchBase}?origin=${r.origin}&destination=${r.destination}` +
          `&departure_date=${r.departureDate}&passengers=${passengers}&cabin=${cabin}`,
        init: { headers: anon },
        miss: !cached,
      };
    };
    // Fill the cache for the cached share.
    for (let i = 0; i < 5; i++) {
      const r = routes[i]!;
      await ask(
        `${searchBase}?origin=${r.origin}&destination=${r.destination}&departure_date=${r.departureDate}&passengers=1&cabin=economy`,
        anon,
        giveUpMs,
      );
    }
    const userJwt = await new SignJWT({ role: "authenticated", aud: "authenticated" })
      .setSubject(crypto.randomUUID()).setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt().setExpirationTime("2h").sign(new TextEncoder().encode(s.jwtSecret));
    const card = () => ({
      url: `${s.functionsUrl}/payment-methods`,
      init: {
        method: "POST",
        headers: { authorization: `Bearer ${userJwt}`, "content-type": "application/json" },
        body: JSON.stringify({
          number: "4111111111111111",
          exp_month: 12,
          exp_year: new Date().getUTCFullYear() + 3,
          holder_name: "Fault Bench",
        }),
      },
      miss: true,
    });
    const dbBreakerOpen = async () => {
      const res = await fetch(`${searchBase}/stats`, {
        headers: { authorization: `Bearer ${s.serviceRoleKey}` },
        signal: AbortSignal.timeout(2000),
      });
      return (await res.json()).breakers?.database?.state === "open";
    };
    let frozen: number[] = [];
    const faults: Record<FaultName, Fault> = {
      postgres_freeze: {
        name: "postgres_freeze",
        label: "Postgres frozen (SIGSTOP, every process)",
        fn: "flight-search",
        budgetMs: searchBudgetMs,
        inject: () => {
          frozen = processTree(pg.pid);
          signalAll(frozen, "SIGSTOP");
          return Promise.resolve();
        },
        heal: () => Promise.resolve(signalAll(frozen, "SIGCONT")),
        breakerOpen: dbBreakerOpen,
      },
      postgres_kill: {
        name: "postgres_kill",
        label: "Postgres killed (SIGKILL), restarted by the bench",
        fn: "flight-search",
        budgetMs: searchBudgetMs,
        inject: () => Promise.resolve(signalAll(processTree(pg.pid), "SIGKILL")),
        heal: async () => {
          pg = await startPg();
        },
        breakerOpen: dbBreakerOpen,
      },
      redis_freeze: {
        name: "redis_freeze",
        label: "Redis frozen (SIGSTOP)",
        fn: "flight-search",
        budgetMs: searchBudgetMs,
        inject: () => Promise.resolve(signalAll([redis.pid!], "SIGSTOP")),
        heal: () => Promise.resolve(signalAll([redis.pid!], "SIGCONT")),
      },
      kms_hang: {
        name: "kms_hang",
        label: "KMS accepts and never answers",
        fn: "payment-methods",
        budgetMs: paymentBudgetMs,
        inject: () => Promise.resolve(kmsProxy.setHang(true)),
        heal: () => Promise.resolve(kmsProxy.setHang(false)),
      },
    };
    const results: FaultResult[] = [];
    for (const name of options.only) {
      const fault = faults[name];
      results.push(await runFault(fault, options, fault.fn === "flight-search" ? search : card));
      await sleep(1000);
    }
    return results;
  } finally {
    await stack?.stop();
    kmsProxy.stop();
    await kms.stop();
    await redis.stop();
    await pg.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await runMain(main, { usage });
