/**
 * Announces phases with their number, progress and elapsed time, and records them in the
 * deployment log.
 *
 * @module
 */
import type { Clock } from "../../supabase/functions/_shared/clock.ts";
import type { DeploymentLog, PhaseRecord } from "./deployment_log.ts";

/** The five phases, in order. */
export const phaseNames = [
  "Database",
  "Functions",
  "Performance test",
  "Monitoring",
  "Completion",
] as const;

/** Formats milliseconds as `m:ss` (or `h:mm:ss`). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A running phase. */
export interface PhaseHandle {
  /** Prints an indented line under the phase and records it as an event. */
  info(message: string, data?: unknown): void;
  /** Marks the phase skipped (with why) instead of ok when it returns. */
  skip(detail: string): void;
  /** Sets the detail shown with the outcome. */
  detail(text: string): void;
}

/** Phase announcer. */
export class Progress {
  readonly #print: (line: string) => void;
  readonly #clock: Clock;
  readonly #log: DeploymentLog;
  readonly #start: number;

  constructor(options: { print: (line: string) => void; clock: Clock; log: DeploymentLog }) {
    this.#print = options.print;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#start = options.clock.now();
  }

  /** Time since the deploy started, `m:ss`. */
  elapsed(): string {
    return formatElapsed(this.#clock.now() - this.#start);
  }

  /** Prints a top-level line with the elapsed time and records it. */
  info(message: string, data?: unknown): void {
    this.#print(`[${this.elapsed()}] ${message}`);
    this.#log.event(new Date(this.#clock.wallNow()), message, undefined, data);
  }

  /**
   * Runs phase `number` (1-based), announcing its start and its end with the time it took. A
   * throw marks it failed and propagates.
   */
  async phase<T>(
    number: number,
    fn: (phase: PhaseHandle) => Promise<T>,
    step?: number,
  ): Promise<T> {
    const name = phaseNames[number - 1] ?? `Phase ${number}`;
    const label = `Phase ${number}/${phaseNames.length} ${name}${
      step === undefined ? "" : ` (step ${step}%)`
    }`;
    const started = this.#clock.now();
    const record: PhaseRecord = this.#log.startPhase(number, name, new Date(started), step);
    this.#print(`[${this.elapsed()}] ▶ ${label}`);
    let skipped: string | undefined;
    let detail: string | undefined;
    const handle: PhaseHandle = {
      info: (message, data) => {
        this.#print(`[${this.elapsed()}]     ${message}`);
        this.#log.event(new Date(this.#clock.wallNow()), message, name, data);
      },
      skip: (why) => {
        skipped = why;
      },
      detail: (text) => {
        detail = text;
      },
    };
    try {
      const result = await fn(handle);
      const took = ((this.#clock.now() - started) / 1000).toFixed(1);
      this.#log.finishPhase(
        record,
        new Date(this.#clock.wallNow()),
        skipped ? "skipped" : "ok",
        skipped ?? detail,
      );
      this.#print(
        `[${this.elapsed()}] ${skipped ? "↷" : "✓"} ${label} ${
          skipped ? `skipped: ${skipped}` : `done in ${took} s`
        }${detail && !skipped ? ` — ${detail}` : ""}`,
      );
      return result;
    } catch (error) {
      const took = ((this.#clock.now() - started) / 1000).toFixed(1);
      const message = error instanceof Error ? error.message : String(error);
      this.#log.finishPhase(record, new Date(this.#clock.wallNow()), "failed", message);
      this.#print(`[${this.elapsed()}] ✗ ${label} failed after ${took} s: ${message}`);
      throw error;
    }
  }
}
