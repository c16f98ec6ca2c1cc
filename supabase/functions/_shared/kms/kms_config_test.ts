import { ConfigError } from "../env.ts";
import { assertEquals, assertThrows } from "../../../../tests/support/assert.ts";
import { kmsConfig } from "./kms_config.ts";

const base = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  KMS_KEY_ID: "alias/payments",
};

Deno.test("kmsConfig() reads explicit region and credentials with defaults for the rest", () => {
  const config = kmsConfig(base);
  assertEquals(config.region, "eu-west-1");
  assertEquals(config.credentials, {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  });
  assertEquals(config.endpoint, undefined);
  assertEquals([config.maxAttempts, config.retryMode], [3, "standard"]);
  assertEquals(config.cache.maxMessages, 100);
  assertEquals(config.contextEnvironment, "default");
  const custom = kmsConfig({
    ...base,
    AWS_SESSION_TOKEN: "token",
    KMS_ENDPOINT: "https://127.0.0.1:4566",
    KMS_RETRY_MODE: "adaptive",
    KMS_DATA_KEY_MAX_MESSAGES: "7",
    KMS_CONTEXT_ENVIRONMENT: "staging",
  });
  assertEquals(custom.contextEnvironment, "staging");
  assertEquals(custom.credentials.sessionToken, "token");
  assertEquals([custom.endpoint, custom.retryMode, custom.cache.maxMessages], [
    "https://127.0.0.1:4566",
    "adaptive",
    7,
  ]);
});

Deno.test("kmsConfig() names a missing or malformed variable and never echoes a secret", () => {
  const { AWS_SECRET_ACCESS_KEY: _, ...noSecret } = base;
  assertThrows(() => kmsConfig(noSecret), ConfigError, "AWS_SECRET_ACCESS_KEY is not set");
  assertThrows(() => kmsConfig({ ...base, AWS_REGION: "mars" }), ConfigError, "AWS_REGION");
  assertThrows(() => kmsConfig({ ...base, KMS_ENDPOINT: "ftp://x" }), ConfigError, "KMS_ENDPOINT");
  assertThrows(
    () => kmsConfig({ ...base, KMS_RETRY_MODE: "legacy" }),
    ConfigError,
    "KMS_RETRY_MODE",
  );
  assertThrows(
    () => kmsConfig({ ...base, KMS_CONTEXT_ENVIRONMENT: "Prod Env" }),
    ConfigError,
    "KMS_CONTEXT_ENVIRONMENT",
  );
  const error = assertThrows(
    () => kmsConfig({ ...base, KMS_MAX_ATTEMPTS: "0" }),
    ConfigError,
    "KMS_MAX_ATTEMPTS",
  );
  assertEquals(error.message.includes(base.AWS_SECRET_ACCESS_KEY), false);
});
