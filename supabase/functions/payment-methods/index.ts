import { authOptions, createAuthVerifier } from "../_shared/auth.ts";
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
  return {
    sql: isolatePool("payment-methods"),
    verify: createAuthVerifier(authOptions()),
    kmsEnvironment: kms.config.contextEnvironment,
    cipher: new EnvelopeCipher({
      keys: new KmsKeyring(kms.client, kms.config.keyId),
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
