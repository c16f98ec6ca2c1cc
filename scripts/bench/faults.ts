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
import { childPids, signalProcess } from "../local/child_process.ts";
import { repoRoot } from "../local/paths.ts";
import type { Stack } from "../local/stack.ts";
import { type PopularRoute, popularRoutes } from "../seed/seed.ts";
import { benchCommand } from "./bench_run.ts";
import { ask } from "./fault_probe.ts";
import { type Fault, giveUpMs, type LoadRequest, runFault, sleep } from "./fault_run.ts";
import { type FaultStack, startFaultStack } from "./fault_stack.ts";
import { camelKeys, parseCommandLine, validateOptions } from "../_cli/args.ts";
import { runMain, showUsage } from "../_cli/run_main.ts";
import {
  type FaultResult,
  faultsMarkdown,
  type FaultsReport,
  faultsReportSchema,
} from "./faults_report.ts";
import { faultsTargets } from "./faults_targets.ts";

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

/** Budgets of the functions under load (their defaults). */
const searchBudgetMs = 3000;
const paymentBudgetMs = 5000;

/** Every process of the tree under `pid`, `pid` first. */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...childPids(tree[i]!));
  return tree;
}

function signalAll(pids: number[], signal: Deno.Signal): void {
  for (const pid of pids) signalProcess(pid, signal);
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
    targets: faultsTargets(results),
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

/**
 * Searches: a `cachedShare` of them ask for one of five answers cached beforehand (by asking
 * once here), the rest for answers not asked for before.
 */
async function searchRequests(
  s: Stack,
  routes: PopularRoute[],
  cachedShare: number,
): Promise<() => LoadRequest> {
  const searchBase = `${s.functionsUrl}/flight-search`;
  const anon = { authorization: `Bearer ${s.anonKey}` };
  let variant = 0;
  const search = () => {
    const cached = Math.random() < cachedShare;
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
  return search;
}

/** New cards of one signed-in user. */
async function cardRequests(s: Stack): Promise<() => LoadRequest> {
  const userJwt = await new SignJWT({ role: "authenticated", aud: "authenticated" })
    .setSubject(crypto.randomUUID()).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt().setExpirationTime("2h").sign(new TextEncoder().encode(s.jwtSecret));
  return () => ({
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
}

/** The faults, each on the dependency of `env` it hurts. */
function faultCatalog(env: FaultStack): Record<FaultName, Fault> {
  const dbBreakerOpen = async () => {
    const res = await fetch(`${env.stack.functionsUrl}/flight-search/stats`, {
      headers: { authorization: `Bearer ${env.stack.serviceRoleKey}` },
      signal: AbortSignal.timeout(2000),
    });
    return (await res.json()).breakers?.database?.state === "open";
  };
  let frozen: number[] = [];
  return {
    postgres_freeze: {
      name: "postgres_freeze",
      label: "Postgres frozen (SIGSTOP, every process)",
      fn: "flight-search",
      budgetMs: searchBudgetMs,
      inject: () => {
        frozen = processTree(env.postgres().pid);
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
      inject: () => Promise.resolve(signalAll(processTree(env.postgres().pid), "SIGKILL")),
      heal: () => env.restartPostgres(),
      breakerOpen: dbBreakerOpen,
    },
    redis_freeze: {
      name: "redis_freeze",
      label: "Redis frozen (SIGSTOP)",
      fn: "flight-search",
      budgetMs: searchBudgetMs,
      inject: () => Promise.resolve(signalAll([env.redisPid], "SIGSTOP")),
      heal: () => Promise.resolve(signalAll([env.redisPid], "SIGCONT")),
    },
    kms_hang: {
      name: "kms_hang",
      label: "KMS accepts and never answers",
      fn: "payment-methods",
      budgetMs: paymentBudgetMs,
      inject: () => Promise.resolve(env.kmsProxy.setHang(true)),
      heal: () => Promise.resolve(env.kmsProxy.setHang(false)),
    },
  };
}

/** Every fault of `options.only` in turn, on a stack of their own. */
async function runAll(options: Options): Promise<FaultResult[]> {
  const env = await startFaultStack();
  try {
    const admin = postgres(env.postgres().url, { max: 1, onnotice: () => {} });
    const routes = await popularRoutes(admin, 60);
    await admin.end();
    const search = await searchRequests(env.stack, routes, options.cachedShare);
    const card = await cardRequests(env.stack);
    const faults = faultCatalog(env);
    const results: FaultResult[] = [];
    for (const name of options.only) {
      const fault = faults[name];
      results.push(await runFault(fault, options, fault.fn === "flight-search" ? search : card));
      await sleep(1000);
    }
    return results;
  } finally {
    await env.stop();
  }
}

if (import.meta.main) await runMain(main, { usage });
