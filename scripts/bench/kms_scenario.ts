/**
 * One scenario of `deno task bench:kms`: a contender against a fresh KMS endpoint of its own (so
 * its connection and call counts are its own), timing each encryption and then each decryption.
 *
 * @module
 */
import { kmsConfig } from "../../supabase/functions/_shared/kms/kms_config.ts";
import { startKmsServer } from "../local/kms_server.ts";
import type { KmsScenarioResult } from "./kms_report.ts";
import { type Contender, payload, rowsFor } from "./kms_contenders.ts";
import { percentile } from "./percentile.ts";

/** Latency summary of one operation kind, ms. */
type Latency = KmsScenarioResult["encrypt"];

/** How a scenario runs: the endpoint's latency and the contenders' limits. */
export interface ScenarioSettings {
  /** Encryptions (and as many decryptions). */
  operations: number;
  https: boolean;
  /** Round trip injected per KMS request, ms. */
  rttMs: number;
  /** Extra round trips on a new connection (TCP + TLS). */
  handshakeRtts: number;
  /** Data-key cache: messages per data key. */
  maxMessages: number;
}

function summarise(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: samples.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    mean: round(samples.reduce((s, x) => s + x, 0) / samples.length),
  };
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  samples.push(performance.now() - started);
  return result;
}

/**
 * Runs `contender` against a fresh endpoint: `operations` encryptions, then the decryption of
 * each envelope with its own row's scope.
 *
 * @throws {Error} when a decryption returns other bytes than were encrypted.
 */
export async function runScenario(
  contender: Contender,
  settings: ScenarioSettings,
): Promise<KmsScenarioResult> {
  const { name, label } = contender;
  const server = await startKmsServer({
    https: settings.https,
    latencyMs: settings.rttMs,
    connectionLatencyMs: settings.rttMs * settings.handshakeRtts,
  });
  const config = kmsConfig({
    ...server.env,
    KMS_DATA_KEY_MAX_MESSAGES: String(settings.maxMessages),
  });
  const workload = contender.make(server, config, settings);
  const enc: number[] = [];
  const dec: number[] = [];
  const rows = rowsFor(contender.workload, settings.operations);
  try {
    const envelopes: Uint8Array[] = [];
    for (const row of rows) {
      envelopes.push(await timed(enc, () => workload.encrypt(row)));
    }
    for (const [i, envelope] of envelopes.entries()) {
      const plain = await timed(dec, () => workload.decrypt(envelope, rows[i]!));
      if (plain.length !== payload.length) {
        throw new Error(`${name}: decryption returned wrong bytes`);
      }
    }
  } finally {
    workload.close();
    await server.stop();
  }
  const calls = server.calls();
  const ops = enc.length + dec.length;
  const requests = server.requests();
  return {
    name,
    label,
    workload: contender.workload,
    encrypt: summarise(enc),
    decrypt: summarise(dec),
    kmsCalls: calls,
    kmsCallsTotal: Object.values(calls).reduce((s, n) => s + (n ?? 0), 0),
    requests,
    connections: server.connections(),
    connectionsPer100Ops: Math.round((server.connections() / ops) * 100 * 100) / 100,
    reuseRatio: requests > 0
      ? Math.round((1 - server.connections() / requests) * 1000) / 1000
      : null,
  };
}
