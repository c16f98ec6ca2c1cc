import { authOptions, createAuthVerifier } from "../_shared/auth.ts";
import { breakerOptionsFromEnv, CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { intVar, readEnv } from "../_shared/env.ts";
import { z } from "zod";
import { isolatePool, resetIsolatePool } from "../_shared/db.ts";
import { errorResponse } from "../_shared/http_error.ts";
import { DataKeyCache } from "../_shared/kms/data_key_cache.ts";
import { EnvelopeCipher } from "../_shared/kms/envelope.ts";
import { isolateKmsClient } from "../_shared/kms/kms_client.ts";
import { KmsKeyring } from "../_shared/kms/kms_keyring.ts";
import { metricsWriter } from "../_shared/metric_row.ts";
import { FunctionMetrics } from "../_shared/metrics.ts";
import { withBreakers } from "../_shared/breaker_store.ts";
import { handler, type PaymentMethodsDeps } from "./handler.ts";
import {
  KmsMetricsRecorder,
  metricsFlushIntervalMs,
  paymentMethodsFunctionName,
  recordingKmsMetrics,
} from "./kms_metrics.ts";

// Built on the first request, not at import: a missing secret then fails that request with a
// message naming it (and every later one), instead of crashing the isolate at boot.
let serve: ((req: Request) => Promise<Response>) | undefined;

function isolateServe(): (req: Request) => Promise<Response> {
  const kms = isolateKmsClient();
  const { capacity, ...limits } = kms.config.cache;
  const { PAYMENT_METHODS_BUDGET_MS } = readEnv(
    z.object({ PAYMENT_METHODS_BUDGET_MS: intVar(5000, { max: 600_000 }) }),
  );
  const sql = isolatePool(paymentMethodsFunctionName);
  const cache = new DataKeyCache({ capacity });
  const kmsBreakerOptions = breakerOptionsFromEnv("kms");
  const kmsBreaker = new CircuitBreaker({
    dependency: "kms",
    ...kmsBreakerOptions,
    // Once per opening; the requests it then refuses are not logged one by one.
    onOpen: () =>
      console.error(
        `payment-methods: KMS circuit breaker open: KMS calls refused for ${kmsBreakerOptions.openMs} ms`,
      ),
  });
  const dbBreaker = new CircuitBreaker({
    dependency: "database",
    ...breakerOptionsFromEnv("database"),
    onOpen: () => resetIsolatePool(paymentMethodsFunctionName),
  });
  const deps: PaymentMethodsDeps = {
    sql,
    budgetMs: PAYMENT_METHODS_BUDGET_MS,
    kmsBreaker,
    dbBreaker,
    verify: createAuthVerifier(authOptions()),
    kmsEnvironment: kms.config.contextEnvironment,
    cipher: new EnvelopeCipher({
      keys: new KmsKeyring(kms.client, kms.config.keyId, {
        callTimeoutMs: kms.config.callTimeoutMs,
      }),
      cache,
      policy: { ...limits, partition: "payment-methods" },
    }),
  };
  // The breakers' state rides on the same flush (monitoring.circuit_breakers).
  const metrics: FunctionMetrics = new FunctionMetrics({
    functionName: paymentMethodsFunctionName,
    write: withBreakers(
      metricsWriter(sql),
      sql,
      paymentMethodsFunctionName,
      (): string => metrics.isolateId,
      () => [kmsBreaker.snapshot(), dbBreaker.snapshot()],
    ),
    flushIntervalMs: metricsFlushIntervalMs(),
  });
  const recorder = new KmsMetricsRecorder(metrics, {
    kms: () => kms.stats.snapshot(),
    dataKeys: () => cache.stats(),
  });
  return recordingKmsMetrics((req) => handler(req, deps), recorder);
}

Deno.serve((req) => {
  try {
    serve ??= isolateServe();
  } catch (error) {
    return errorResponse(error);
  }
  return serve(req);
});
