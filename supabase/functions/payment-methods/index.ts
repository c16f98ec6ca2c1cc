import { authOptions, createAuthVerifier } from "../_shared/auth.ts";
import { breakerOptionsFromEnv, CircuitBreaker } from "../_shared/circuit_breaker.ts";
import { intVar, readEnv } from "../_shared/env.ts";
import { z } from "zod";
import { isolatePool } from "../_shared/db.ts";
import { errorResponse } from "../_shared/http_error.ts";
import { DataKeyCache } from "../_shared/kms/data_key_cache.ts";
import { EnvelopeCipher } from "../_shared/kms/envelope.ts";
import { isolateKmsClient } from "../_shared/kms/kms_client.ts";
import { KmsKeyring } from "../_shared/kms/kms_keyring.ts";
import { handler, type PaymentMethodsDeps } from "./handler.ts";

// Built on the first request, not at import: a missing secret then fails that request with a
// message naming it (and every later one), instead of crashing the isolate at boot.
let deps: PaymentMethodsDeps | undefined;

function isolateDeps(): PaymentMethodsDeps {
  const kms = isolateKmsClient();
  const { capacity, ...limits } = kms.config.cache;
  const { PAYMENT_METHODS_BUDGET_MS } = readEnv(
    z.object({ PAYMENT_METHODS_BUDGET_MS: intVar(5000, { max: 600_000 }) }),
  );
  return {
    sql: isolatePool("payment-methods"),
    budgetMs: PAYMENT_METHODS_BUDGET_MS,
    kmsBreaker: new CircuitBreaker({ dependency: "kms", ...breakerOptionsFromEnv("kms") }),
    dbBreaker: new CircuitBreaker({ dependency: "database", ...breakerOptionsFromEnv("database") }),
    verify: createAuthVerifier(authOptions()),
    kmsEnvironment: kms.config.contextEnvironment,
    cipher: new EnvelopeCipher({
      keys: new KmsKeyring(kms.client, kms.config.keyId, {
        callTimeoutMs: kms.config.callTimeoutMs,
      }),
      cache: new DataKeyCache({ capacity }),
      policy: { ...limits, partition: "payment-methods" },
    }),
  };
}

Deno.serve((req) => {
  try {
    deps ??= isolateDeps();
  } catch (error) {
    return errorResponse(error);
  }
  return handler(req, deps);
});
