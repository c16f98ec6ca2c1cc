/**
 * A real Redis behind a real Upstash REST bridge, for tests that exercise `@upstash/redis`.
 *
 * Starts Debian's `redis-server` (or uses `REDIS_URL`) and the bridge on free loopback ports;
 * throws {@link RedisUnavailableError} naming what is missing when there is no Redis, so a test
 * needing one fails loudly instead of passing without it.
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { type RedisServer, startRedis } from "../../scripts/local/redis.ts";
import { startUpstashBridge, type UpstashBridge } from "../../scripts/local/upstash_bridge.ts";

export { RedisUnavailableError } from "../../scripts/local/redis.ts";

/** A Redis server, a bridge onto it, and a way to make clients of the bridge. */
export interface TestUpstash {
  readonly redis: RedisServer;
  readonly bridge: UpstashBridge;
  /** A real `@upstash/redis` client of the bridge; `token` overrides the right one. */
  client(options?: { token?: string; retry?: false }): Redis;
  /** Stops the bridge, then Redis (when we started it). Idempotent. */
  stop(): Promise<void>;
}

/** Starts Redis and the bridge; stop both with `stop()` in a `finally`. */
export async function startTestUpstash(): Promise<TestUpstash> {
  const redis = await startRedis();
  let bridge: UpstashBridge;
  try {
    bridge = await startUpstashBridge({
      redisUrl: redis.url,
      token: `test-${crypto.randomUUID()}`,
      log: () => {},
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    redis,
    bridge,
    client: (options = {}) =>
      new Redis({
        url: bridge.url,
        token: options.token ?? bridge.token,
        enableTelemetry: false,
        ...(options.retry === false ? { retry: false } : {}),
      }),
    stop() {
      stopping ??= (async () => {
        try {
          await bridge.stop();
        } finally {
          await redis.stop();
        }
      })();
      return stopping;
    },
  };
}
