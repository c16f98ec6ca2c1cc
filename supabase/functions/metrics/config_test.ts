import { assertEquals, assertThrows } from "../../../tests/support/assert.ts";
import { ConfigError } from "../_shared/env.ts";
import { metricsConfig } from "./config.ts";

Deno.test("metricsConfig() reads METRICS_BEARER_TOKEN", () => {
  const token = "a".repeat(32);
  assertEquals(metricsConfig({ METRICS_BEARER_TOKEN: token }), { bearerToken: token });
});

Deno.test("metricsConfig() refuses a missing or short secret without echoing it", () => {
  assertThrows(() => metricsConfig({}), ConfigError, "METRICS_BEARER_TOKEN is not set");
  const error = assertThrows(
    () => metricsConfig({ METRICS_BEARER_TOKEN: "short-secret" }),
    ConfigError,
    "at least 32",
  );
  assertEquals(error.message.includes("short-secret"), false);
});
