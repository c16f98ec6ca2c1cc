/**
 * The record of one deploy: options, phases with timings, every command and write, every
 * analysis check, the outcome and why. Archived as JSON + markdown under reports/deployments/
 * (here) and as a row in `public.deployments` (`deployment_row.ts`).
 *
 * @module
 */
import type { Check } from "./analysis.ts";
import type { ExecutedEntry } from "./executor.ts";

/** How a deploy ended (the `deployments.status` values). */
export type DeploymentStatus = "running" | "promoted" | "rolled_back" | "failed" | "aborted";

/** A phase as it ran. */
export interface PhaseRecord {
  number: number;
  name: string;
  /** The traffic step it ran for, for phases repeated per step. */
  step?: number;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  outcome?: "ok" | "failed" | "skipped";
  detail?: string;
}

/** Something noteworthy, in order. */
export interface LogEvent {
  at: string;
  phase?: string;
  message: string;
  data?: unknown;
}

/** The archived form of a deploy. */
export interface DeploymentRecord {
  id: string;
  environment: string;
  flagKey: string;
  fromPercentage: number;
  toPercentage: number;
  steps: number[];
  status: DeploymentStatus;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  dryRun: boolean;
  options: Record<string, unknown>;
  phases: PhaseRecord[];
  checks: { step: number; check: Check }[];
  executed: ExecutedEntry[];
  events: LogEvent[];
}

/**
 * A new deploy id, `dep_YYYYMMDD_HHMMSS_xxxxxx` (UTC time and six random base-36 characters),
 * sortable by start time.
 */
export function newDeploymentId(now: Date, random: () => number = Math.random): string {
  const iso = now.toISOString();
  const date = iso.slice(0, 10).replaceAll("-", "");
  const time = iso.slice(11, 19).replaceAll(":", "");
  let suffix = "";
  for (let i = 0; i < 6; i++) {
    suffix += "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 36)];
  }
  return `dep_${date}_${time}_${suffix}`;
}

/** Options of {@link DeploymentLog}. */
export interface DeploymentLogInit {
  id: string;
  environment: string;
  flagKey: string;
  steps: number[];
  startedBy: string;
  startedAt: Date;
  dryRun: boolean;
  options: Record<string, unknown>;
}

/** Collects a deploy's record as it runs. */
export class DeploymentLog {
  readonly #record: DeploymentRecord;

  constructor(init: DeploymentLogInit) {
    this.#record = {
      id: init.id,
      environment: init.environment,
      flagKey: init.flagKey,
      fromPercentage: 0,
      toPercentage: 0,
      steps: [...init.steps],
      status: "running",
      reason: null,
      startedAt: init.startedAt.toISOString(),
      finishedAt: null,
      startedBy: init.startedBy,
      dryRun: init.dryRun,
      options: init.options,
      phases: [],
      checks: [],
      executed: [],
      events: [],
    };
  }

  /** The deploy id. */
  get id(): string {
    return this.#record.id;
  }

  /** The current status. */
  get status(): DeploymentStatus {
    return this.#record.status;
  }

  /** The traffic percentage the flag had before the deploy. */
  setFrom(percentage: number): void {
    this.#record.fromPercentage = percentage;
    this.#record.toPercentage = percentage;
  }

  /** The traffic percentage the flag has now. */
  setTraffic(percentage: number): void {
    this.#record.toPercentage = percentage;
  }

  /** Records a phase's start and returns it for {@link finishPhase}. */
  startPhase(number: number, name: string, at: Date, step?: number): PhaseRecord {
    const phase: PhaseRecord = { number, name, startedAt: at.toISOString() };
    if (step !== undefined) phase.step = step;
    this.#record.phases.push(phase);
    return phase;
  }

  /** Records how a phase ended. */
  finishPhase(
    phase: PhaseRecord,
    at: Date,
    outcome: PhaseRecord["outcome"],
    detail?: string,
  ): void {
    phase.finishedAt = at.toISOString();
    phase.durationMs = at.getTime() - Date.parse(phase.startedAt);
    phase.outcome = outcome;
    if (detail !== undefined) phase.detail = detail;
  }

  /** Records an analysis check of `step`. */
  check(step: number, check: Check): void {
    this.#record.checks.push({ step, check });
  }

  /** Records a command or write (the executor's `record` hook). */
  executed(entry: ExecutedEntry): void {
    this.#record.executed.push(entry);
  }

  /** Records an event. */
  event(at: Date, message: string, phase?: string, data?: unknown): void {
    const event: LogEvent = { at: at.toISOString(), message };
    if (phase !== undefined) event.phase = phase;
    if (data !== undefined) event.data = data;
    this.#record.events.push(event);
  }

  /** Records the outcome. */
  finish(status: Exclude<DeploymentStatus, "running">, reason: string | null, at: Date): void {
    this.#record.status = status;
    this.#record.reason = reason;
    this.#record.finishedAt = at.toISOString();
  }

  /** A deep copy of the record. */
  toJSON(): DeploymentRecord {
    return structuredClone(this.#record);
  }

  /** A markdown rendering for people: outcome, phases, checks, commands. */
  toMarkdown(): string {
    const r = this.#record;
    const lines = [
      `# Deployment ${r.id}${r.dryRun ? " (dry run)" : ""}`,
      "",
      `- Environment: ${r.environment}`,
      `- Flag: \`${r.flagKey}\`, ${r.fromPercentage}% → ${r.toPercentage}% (steps ${
        r.steps.join(", ")
      })`,
      `- Status: **${r.status}**${r.reason ? ` — ${r.reason}` : ""}`,
      `- Started: ${r.startedAt} by ${r.startedBy}`,
      `- Finished: ${r.finishedAt ?? "—"}`,
      "",
      "## Phases",
      "",
      "| # | Phase | Step | Outcome | Duration | Detail |",
      "|---|-------|------|---------|----------|--------|",
      ...r.phases.map((p) =>
        `| ${p.number} | ${p.name} | ${p.step === undefined ? "" : `${p.step}%`} | ${
          p.outcome ?? "running"
        } | ${p.durationMs === undefined ? "" : `${(p.durationMs / 1000).toFixed(1)} s`} | ${
          escapeCell(p.detail ?? "")
        } |`
      ),
    ];
    if (r.checks.length > 0) {
      lines.push(
        "",
        "## Analysis checks (optimized vs legacy)",
        "",
        "| Step | # | Window (UTC) | Outcome | Requests opt/legacy | Error rate | p95 ms | Cache hit | DB q/s | DB q/req opt÷legacy | KMS reuse | Notes |",
        "|------|---|--------------|---------|---------------------|------------|--------|-----------|--------|---------------------|-----------|-------|",
      );
      for (const { step, check } of r.checks) {
        const m = (metric: string) => {
          const v = check.metrics.find((x) => x.metric === metric);
          if (!v) return "";
          const f = (x: number | null) =>
            x === null ? "–" : Number.isInteger(x) ? String(x) : x.toFixed(3);
          return `${f(v.optimized)} / ${f(v.legacy)}${mark(v.verdict)}`;
        };
        // A figure of the optimized path relative to legacy: one value.
        const one = (metric: string) => {
          const v = check.metrics.find((x) => x.metric === metric);
          if (!v) return "";
          return `${v.optimized === null ? "–" : v.optimized.toFixed(2)}${mark(v.verdict)}`;
        };
        lines.push(
          `| ${step}% | ${check.index} | ${check.since.slice(11, 19)}–${
            check.until.slice(11, 19)
          } | ${check.outcome} | ${check.optimizedRequests} / ${check.legacyRequests} | ${
            m("error_rate")
          } | ${m("latency_p95_ms")} | ${m("cache_hit_ratio")} | ${m("db_query_rate_per_s")} | ${
            one("db_queries_per_request_vs_legacy")
          } | ${m("kms_reuse_ratio")} | ${escapeCell(check.notes.join("; "))} |`,
        );
      }
    }
    if (r.executed.length > 0) {
      lines.push("", "## Commands and writes", "", "```");
      for (const e of r.executed) {
        lines.push(
          `${e.kind === "command" ? "$" : "sql>"} ${e.text}${
            e.code === undefined ? "" : `  # exit ${e.code}`
          }`,
        );
      }
      lines.push("```");
    }
    if (r.events.length > 0) {
      lines.push("", "## Events", "");
      for (const e of r.events) {
        lines.push(`- ${e.at}${e.phase ? ` [${e.phase}]` : ""} ${e.message}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}

function mark(verdict: string): string {
  return verdict === "rollback" ? " ✗" : verdict === "warn" ? " !" : "";
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Writes `<dir>/<id>.json` and `<dir>/<id>.md`; resolves with their paths. */
export async function writeDeploymentFiles(
  log: DeploymentLog,
  dir: string,
): Promise<{ json: string; markdown: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const json = `${dir}/${log.id}.json`;
  const markdown = `${dir}/${log.id}.md`;
  await Deno.writeTextFile(json, `${JSON.stringify(log.toJSON(), null, 2)}\n`);
  await Deno.writeTextFile(markdown, log.toMarkdown());
  return { json, markdown };
}
