/**
 * What `deno task bench:kms` concludes from its scenarios: the ratios between contenders, and the
 * targets the pooled client and the data-key cache are judged against.
 *
 * @module
 */
import { type BenchTarget, finiteOrNull } from "./bench_run.ts";
import { kmsFigure as fmt, type KmsScenarioResult } from "./kms_report.ts";

/** The scenarios the ratios and targets compare, by contender name. */
interface Compared {
  naive: KmsScenarioResult;
  pooled: KmsScenarioResult;
  cached: KmsScenarioResult;
  esdk: KmsScenarioResult;
  newCards: KmsScenarioResult;
  newCardsEsdk: KmsScenarioResult;
}

/** @throws {Error} naming a contender that did not run. */
function compared(results: readonly KmsScenarioResult[]): Compared {
  const by = (name: string) => {
    const result = results.find((r) => r.name === name);
    if (!result) throw new Error(`bench:kms: no result of ${name}`);
    return result;
  };
  return {
    naive: by("naive"),
    pooled: by("pooled"),
    cached: by("pooled_cached"),
    esdk: by("aws_encryption_sdk"),
    newCards: by("new_cards_pooled_cached"),
    newCardsEsdk: by("new_cards_aws_encryption_sdk"),
  };
}

const generated = (r: KmsScenarioResult) => r.kmsCalls.GenerateDataKey ?? 0;
const ratio = (a: number, b: number) => finiteOrNull(Math.round((a / b) * 100) / 100);

/** Named ratios between the contenders; null where a divisor was 0. */
export function kmsRatios(results: readonly KmsScenarioResult[]): Record<string, number | null> {
  const { naive, pooled, cached, esdk, newCards, newCardsEsdk } = compared(results);
  return {
    "encrypt p50, naive / pooled": ratio(naive.encrypt.p50, pooled.encrypt.p50),
    "decrypt p50, naive / pooled": ratio(naive.decrypt.p50, pooled.decrypt.p50),
    "encrypt p50, pooled / pooled + cache": ratio(pooled.encrypt.p50, cached.encrypt.p50),
    "encrypt p50, AWS Encryption SDK / pooled + cache": ratio(esdk.encrypt.p50, cached.encrypt.p50),
    "decrypt p50, AWS Encryption SDK / pooled + cache": ratio(esdk.decrypt.p50, cached.decrypt.p50),
    "new connections, % fewer pooled vs naive": finiteOrNull(
      Math.round((1 - pooled.connections / naive.connections) * 1000) / 10,
    ),
    "KMS calls, % fewer cached vs pooled": finiteOrNull(
      Math.round((1 - cached.kmsCallsTotal / pooled.kmsCallsTotal) * 1000) / 10,
    ),
    "new cards: GenerateDataKey, AWS Encryption SDK / pooled + cache": ratio(
      generated(newCardsEsdk),
      generated(newCards),
    ),
    "new cards: KMS calls, AWS Encryption SDK / pooled + cache": ratio(
      newCardsEsdk.kmsCallsTotal,
      newCards.kmsCallsTotal,
    ),
    "new cards: encrypt p50, AWS Encryption SDK / pooled + cache": ratio(
      newCardsEsdk.encrypt.p50,
      newCards.encrypt.p50,
    ),
    "new cards: decrypt p50, AWS Encryption SDK / pooled + cache": ratio(
      newCardsEsdk.decrypt.p50,
      newCards.decrypt.p50,
    ),
  };
}

/** The targets, judged on `results` of a run with these settings. */
export function kmsTargets(
  results: readonly KmsScenarioResult[],
  settings: { operations: number; maxMessages: number },
): BenchTarget[] {
  const { pooled, cached, newCards } = compared(results);
  const pooledOps = pooled.encrypt.n + pooled.decrypt.n;
  const callBound = Math.ceil(settings.operations / settings.maxMessages) * 2;
  return [
    {
      name: "pooled: new connections",
      goal: "≤ 1 per 100 operations",
      measured: `${pooled.connections} for ${pooledOps} operations`,
      met: pooled.connections <= Math.ceil(pooledOps / 100),
    },
    {
      name: "pooled + cache: encrypt p50",
      goal: "≤ 1 ms",
      measured: `${fmt(cached.encrypt.p50, 3)} ms`,
      met: cached.encrypt.p50 <= 1,
    },
    {
      name: "pooled + cache: KMS calls",
      goal: `≤ ceil(operations / max messages) per kind = ${callBound}`,
      measured: `${cached.kmsCallsTotal}`,
      met: cached.kmsCallsTotal <= callBound,
    },
    {
      name: "new cards, pooled + cache: GenerateDataKey",
      goal: "≤ 1 per 100 new cards",
      measured: `${generated(newCards)} for ${newCards.encrypt.n} new cards`,
      met: generated(newCards) <= Math.ceil(newCards.encrypt.n / 100),
    },
    {
      name: "new cards, pooled + cache: encrypt p50",
      goal: "≤ 1 ms",
      measured: `${fmt(newCards.encrypt.p50, 3)} ms`,
      met: newCards.encrypt.p50 <= 1,
    },
  ];
}
