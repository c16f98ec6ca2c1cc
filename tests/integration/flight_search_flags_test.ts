/**
 * The flag cache against a real database that goes away: last known values keep routing, reads
 * are retried per interval rather than per request, and an isolate that never read the flag
 * routes to the legacy path.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { testDatabase } from "../support/database.ts";
import { startLatencyProxy } from "../../scripts/local/latency_proxy.ts";
import { inRollout } from "../../supabase/functions/_shared/bucketing.ts";
import { createPool } from "../../supabase/functions/_shared/db.ts";
import { FakeClock } from "../../supabase/functions/_shared/fake_clock.ts";
import { FlagCache, flagLoader } from "../../supabase/functions/_shared/flags.ts";
import { rolloutFlagKey } from "../../supabase/functions/_shared/rollout_flag.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "flag cache keeps routing on the last known flag while the database is down",
  opts,
  async () => {
    const db = await testDatabase({ seeded: false });
    const proxy = startLatencyProxy({ targetPort: Number(new URL(db.url).port), delayMs: 0 });
    const sql = createPool({
      url: proxy.urlFor(db.url),
      max: 1,
      statementTimeoutMs: 2000,
      idleTimeoutS: 20,
      connectTimeoutS: 2,
      applicationName: "flight-search",
    });
    const flagQueries = () =>
      Object.entries(proxy.stats().byStatement)
        .filter(([text]) => text.includes("public.feature_flags"))
        .reduce((n, [, count]) => n + count, 0);
    const setFlag = (percentage: number) =>
      db.sql`update public.feature_flags set enabled = true, traffic_percentage = ${percentage},
             reason = 'test' where flag_key = ${rolloutFlagKey}`;
    const errors: unknown[] = [];
    const clock = new FakeClock();
    const cache = new FlagCache({
      keys: [rolloutFlagKey],
      load: flagLoader(sql),
      ttlMs: 5000,
      retryMs: 5000,
      clock,
      onError: (e) => errors.push(e),
    });
    try {
      await setFlag(40);
      const state = await cache.get(rolloutFlagKey);
      assertEquals(
        [state?.flagKey, state?.enabled, state?.trafficPercentage, state?.reason],
        [rolloutFlagKey, true, 40, "test"],
      );
      assert(state?.updatedAt instanceof Date, "the whole row, as the deploy CLI reads it");
      for (let i = 0; i < 100; i++) await cache.get(rolloutFlagKey);
      assertEquals(flagQueries(), 1, "101 look-ups, one flag query");

      await setFlag(60);
      await clock.tick(5000);
      assertEquals(
        (await cache.get(rolloutFlagKey))?.trafficPercentage,
        40,
        "stale, refreshing behind",
      );
      await cache.refresh();
      assertEquals((await cache.get(rolloutFlagKey))?.trafficPercentage, 60);

      proxy.setBlocked(true);
      await clock.tick(5000);
      assertEquals(
        (await cache.get(rolloutFlagKey))?.trafficPercentage,
        60,
        "last known while down",
      );
      await cache.refresh(); // joins the failing background read
      for (let i = 0; i < 100; i++) {
        await clock.tick(40); // 4 s: inside the retry interval
        assertEquals((await cache.get(rolloutFlagKey))?.trafficPercentage, 60);
      }
      assertEquals(cache.stats().failures, 1, "one failed read, not one per request");
      assert(errors.length === 1);

      // A fresh isolate that never managed to read the flag routes everyone to legacy.
      const fresh = new FlagCache({
        keys: [rolloutFlagKey],
        load: flagLoader(sql),
        clock: new FakeClock(),
        onError: () => {},
      });
      const unknown = await fresh.get(rolloutFlagKey);
      assertEquals(unknown, undefined);
      assertEquals(inRollout(unknown, rolloutFlagKey, "any-user-id"), false);

      proxy.setBlocked(false);
      await clock.tick(1000); // the retry interval has passed
      await cache.get(rolloutFlagKey);
      await cache.refresh();
      assertEquals(cache.stats().loaded, true);
      assertEquals((await cache.get(rolloutFlagKey))?.trafficPercentage, 60);
      assertEquals((await fresh.refresh(), await fresh.get(rolloutFlagKey))?.trafficPercentage, 60);
    } finally {
      await sql.end({ timeout: 1 });
      await proxy.close();
      await db.drop();
    }
  },
);
