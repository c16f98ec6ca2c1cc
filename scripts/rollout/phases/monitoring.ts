/**
 * Phase 4: watch one traffic step for the monitoring window. Every interval, read the optimized
 * and legacy paths side by side from `monitoring.path_summary`, judge the optimized path against
 * config/sla.json, and decide: roll back after `threshold` consecutive failed checks, else
 * continue until the window ends.
 *
 * Each check also re-reads the flag: when someone else changed it (a manual rollback with
 * `flags disable`), the deploy stops and leaves their value in place.
 *
 * @module
 */
import { CanaryAnalysis, type Check, judge } from "../analysis.ts";
import type { RolloutContext } from "../context.ts";
import { readFlag } from "../flag_store.ts";
import type { PhaseHandle } from "../progress.ts";
import type { Session } from "../target.ts";
import type { TrafficGenerator } from "../tools.ts";
import type { DeployFlag } from "../traffic_flag.ts";
import {
  kmsReuseStatement,
  pathSummaryStatement,
  readKmsReuse,
  readPathSummaries,
} from "../path_summary.ts";

/** The function whose paths the analysis compares. */
export const analyzedFunction = "flight-search";

/**
 * The function whose KMS reuse the analysis reports beside the paths: the payment KMS client is
 * the service's, shared by both search paths, so the same figure stands on both sides.
 */
export const kmsFunction = "payment-methods";

/** How a monitored step ended. */
export type StepVerdict =
  | { outcome: "healthy"; checks: number; judged: number }
  | { outcome: "rollback"; reason: string; checks: number }
  | { outcome: "flag_changed"; reason: string; checks: number };

function checkLine(check: Check, failures: number, threshold: number): string {
  const v = (metric: string) => {
    const m = check.metrics.find((x) => x.metric === metric);
    const f = (x: number | null | undefined) =>
      x === null || x === undefined ? "–" : metric.endsWith("_ms") ? x.toFixed(0) : x.toFixed(3);
    return `${f(m?.optimized)}/${f(m?.legacy)}`;
  };
  const head = `check ${check.index}: ${check.outcome.toUpperCase()}` +
    (check.outcome === "fail" ? ` (${failures}/${threshold})` : "");
  return `${head} — opt/legacy requests ${check.optimizedRequests}/${check.legacyRequests}, ` +
    `errors ${v("error_rate")}, p95 ${v("latency_p95_ms")} ms, cache hit ${
      v("cache_hit_ratio")
    }, ` +
    `db q/s ${v("db_query_rate_per_s")} (q/req opt÷legacy ${
      check.metrics.find((x) => x.metric === "db_queries_per_request_vs_legacy")?.optimized
        ?.toFixed(2) ?? "–"
    }), KMS reuse ${v("kms_reuse_ratio")}` +
    (check.notes.length > 0 ? ` — ${check.notes.join("; ")}` : "");
}

/** What phase 4 watches besides the context, the session and the flag. */
export interface MonitoringOptions {
  /** The traffic step under watch. */
  step: number;
  /** Synthetic traffic for a target without users (the local stack). */
  traffic: TrafficGenerator | undefined;
}

/** Runs phase 4 for `step`. */
export async function monitoringPhase(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  { step, traffic }: MonitoringOptions,
): Promise<StepVerdict> {
  return await ctx.progress.phase(4, async (phase) => {
    const { monitorMs, intervalMs, threshold } = ctx.options;
    const checks = Math.max(1, Math.floor(monitorMs / intervalMs));
    phase.info(
      `${checks} check(s) every ${intervalMs / 1000} s over ${
        monitorMs / 1000
      } s; rollback after ${threshold} ` +
        `consecutive failed check(s); checks with fewer than ${ctx.sla.analysis.min_requests} optimized requests are not judged`,
    );
    if (ctx.executor.dryRun) {
      ctx.executor.note(`each check would run: ${pathSummaryStatement.replace(/\s+/g, " ")}`);
      ctx.executor.note(`and: ${kmsReuseStatement.replace(/\s+/g, " ")}`);
      ctx.executor.note(`each check would also re-read the flag and verify the deploy lock`);
      return { outcome: "healthy", checks: 0, judged: 0 } as const;
    }
    const stopTraffic = startTraffic(ctx, session, traffic, phase);
    try {
      return await watch(ctx, session, flag, { step, checks, phase });
    } finally {
      await stopTraffic();
    }
  }, step);
}

/** Starts synthetic traffic for the window, when there is a generator; resolves a stopper. */
function startTraffic(
  ctx: RolloutContext,
  session: Session,
  generator: TrafficGenerator | undefined,
  phase: PhaseHandle,
): () => Promise<void> {
  const traffic = new AbortController();
  const abort = () => traffic.abort(new DOMException("monitoring ended", "AbortError"));
  ctx.signal.addEventListener("abort", abort, { once: true });
  let generating: Promise<void> | undefined;
  const workload = ctx.environment.traffic;
  if (generator && workload && session.api) {
    phase.info(
      `synthetic traffic: "${workload.scenario}" with ${workload.vus} VUs (no real users here)`,
    );
    generating = generator({
      api: session.api,
      dbUrl: session.dbUrl,
      workload,
      durationMs: ctx.options.monitorMs,
      signal: traffic.signal,
    }).catch((error) => {
      if (!traffic.signal.aborted) {
        phase.info(`synthetic traffic stopped: ${(error as Error).message}`);
      }
    });
  }
  return async () => {
    abort();
    ctx.signal.removeEventListener("abort", abort);
    await generating;
  };
}

/** The flag's change by someone else since the deploy last set it, as the reason to stop. */
async function changedUnderUs(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
): Promise<string | undefined> {
  const current = await readFlag(ctx.executor, session.reader, flag.key);
  const ours = flag.state;
  if (
    !current || !ours ||
    (current.enabled === ours.enabled && current.trafficPercentage === ours.trafficPercentage)
  ) {
    return undefined;
  }
  flag.state = current;
  return `flag ${flag.key} was changed to ${current.enabled ? "enabled" : "disabled"} ` +
    `${current.trafficPercentage}% by ${current.updatedBy} (${current.reason}); stopping and leaving it as set`;
}

/** Judges the optimized path against the legacy path over one window. */
async function judgeWindow(
  ctx: RolloutContext,
  session: Session,
  index: number,
  window: { since: Date; until: Date },
): Promise<Check> {
  const paths = await readPathSummaries(
    ctx.executor,
    session.reader,
    analyzedFunction,
    window.since,
    window.until,
  ) ?? [];
  const kmsReuse = await readKmsReuse(
    ctx.executor,
    session.reader,
    kmsFunction,
    window.since,
    window.until,
  ) ?? null;
  const summaries = paths.map((s) => ({ ...s, kmsReuseRatio: s.kmsReuseRatio ?? kmsReuse }));
  return judge(ctx.sla, summaries, { index, ...window });
}

/** The window's checks, one per interval, until one decides a rollback or the window ends. */
async function watch(
  ctx: RolloutContext,
  session: Session,
  flag: DeployFlag,
  { step, checks, phase }: { step: number; checks: number; phase: PhaseHandle },
): Promise<StepVerdict> {
  const { intervalMs, threshold } = ctx.options;
  const analysis = new CanaryAnalysis(threshold);
  let windowStart = ctx.clock.now();
  for (let index = 1; index <= checks; index++) {
    await ctx.clock.sleep(intervalMs, ctx.signal);
    await session.lock.verify();
    const changed = await changedUnderUs(ctx, session, flag);
    if (changed) return { outcome: "flag_changed", reason: changed, checks: index - 1 };
    // Consecutive windows partition the flushed rows exactly (path_summary selects by flush
    // time), so every flush is judged once whatever the interval.
    const window = { since: new Date(windowStart), until: new Date(ctx.clock.now()) };
    windowStart = window.until.getTime();
    const check = await judgeWindow(ctx, session, index, window);
    const decision = analysis.record(check);
    ctx.log.check(step, check);
    phase.info(checkLine(check, decision.consecutiveFailures, threshold));
    if (decision.action === "rollback") {
      // The reason names what crossed a rollback level; warnings stay in the check's notes.
      const causes = check.notes.filter((note) => / rollback level /.test(note));
      return {
        outcome: "rollback",
        reason: `${decision.consecutiveFailures} consecutive failed checks at ${step}%: ${
          (causes.length > 0 ? causes : check.notes).join("; ")
        }`,
        checks: index,
      };
    }
  }
  if (analysis.judged === 0) {
    return {
      outcome: "rollback",
      reason:
        `no check at ${step}% had the ${ctx.sla.analysis.min_requests} optimized requests needed to judge it ` +
        "(too little traffic: lengthen --monitor or raise the step)",
      checks,
    };
  }
  phase.detail(
    `${analysis.judged} of ${checks} check(s) judged, none failed ${threshold} times in a row`,
  );
  return { outcome: "healthy", checks, judged: analysis.judged };
}
