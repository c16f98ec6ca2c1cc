/**
 * A database of a benchmark's own: a scratch database on DATABASE_URL's server when that is set
 * (dropped afterwards), else an embedded Postgres 17 in a temporary folder (removed afterwards).
 *
 * @module
 */
import postgres from "postgres";
import { startEmbeddedPostgres } from "../local/embedded_postgres.ts";
import { freePort } from "../local/ports.ts";

/** A benchmark's database. */
export interface BenchDatabase {
  /** Its connection string. */
  url: string;
  /** Drops or stops it. */
  stop(): Promise<void>;
}

/** Creates the database (see the module doc). */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  const external = Deno.env.get("DATABASE_URL");
  if (external) {
    const name = `pf_bench_${crypto.randomUUID().slice(0, 8)}`;
    const admin = postgres(external, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end();
    const u = new URL(external);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      stop: async () => {
        const dropper = postgres(external, { max: 1, onnotice: () => {} });
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
        await dropper.end();
      },
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "pf-bench-pg-" });
  const pg = await startEmbeddedPostgres({
    dataDir: `${dir}/data`,
    port: freePort(),
    ephemeral: true,
  });
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
