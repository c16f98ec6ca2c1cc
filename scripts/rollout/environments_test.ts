import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../tests/support/assert.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { loadEnvironments, resolveEnvironment } from "./environments.ts";

const ref = "abcdefghijklmnopqrst";
const anon = "anon-key-that-is-long-enough";

Deno.test("loadEnvironments() accepts the repository's config/environments.json", async () => {
  const file = await loadEnvironments();
  assertEquals(Object.keys(file.environments), ["local", "staging", "production"]);
  assert(file.environments.local.functions.includes("flight-search"));
});

Deno.test("loadEnvironments() names the file and field of a mistake", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = JSON.parse(
      await Deno.readTextFile(new URL("../../config/environments.json", import.meta.url)),
    );
    const cases: [unknown, string][] = [
      [{
        ...good,
        environments: {
          ...good.environments,
          staging: { ...good.environments.staging, monitor: "soon" },
        },
      }, "environments.staging.monitor"],
      [{
        ...good,
        environments: {
          ...good.environments,
          staging: { ...good.environments.staging, project_ref_env: undefined },
        },
      }, "project_ref_env"],
      [{
        ...good,
        environments: {
          ...good.environments,
          local: { ...good.environments.local, database: { source: "url_env", url_env: "X" } },
        },
      }, "a local environment uses local_stack"],
      [{
        ...good,
        environments: {
          ...good.environments,
          production: {
            ...good.environments.production,
            database: { source: "url_env", url_env: "lower" },
          },
        },
      }, "environment variable name"],
      [{ ...good, extra: 1 }, "extra"],
    ];
    for (const [content, expected] of cases) {
      await Deno.writeTextFile(`${dir}/env.json`, JSON.stringify(content));
      const error = await assertRejects(
        () => loadEnvironments(`${dir}/env.json`),
        ConfigError,
      );
      assertStringIncludes(error.message, expected);
      assertStringIncludes(error.message, `${dir}/env.json`);
    }
    await Deno.writeTextFile(`${dir}/env.json`, "{ not json");
    await assertRejects(
      () => loadEnvironments(`${dir}/env.json`),
      ConfigError,
      "not valid JSON",
    );
    await assertRejects(
      () => loadEnvironments(`${dir}/missing.json`),
      ConfigError,
      "cannot read",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveEnvironment() reads a URL-based environment from its variables", async () => {
  const file = await loadEnvironments();
  const env = await resolveEnvironment(file, "staging", {
    env: {
      STAGING_DB_URL: "postgresql://postgres:pw@db.example.test:5432/postgres",
      STAGING_PROJECT_REF: ref,
      STAGING_SUPABASE_ANON_KEY: anon,
    },
  });
  assertEquals(env.database, {
    source: "url_env",
    variable: "STAGING_DB_URL",
    url: "postgresql://postgres:pw@db.example.test:5432/postgres",
  });
  assertEquals(env.projectRef, ref);
  assertEquals(env.apiUrl, `https://${ref}.supabase.co`);
  assertEquals(env.anonKey, anon);
  assert(env.monitorMs > env.intervalMs);
});

Deno.test("resolveEnvironment() names a missing or malformed variable, never its value", async () => {
  const file = await loadEnvironments();
  const base = {
    STAGING_DB_URL: "postgresql://postgres:secret-pw@db.example.test:5432/postgres",
    STAGING_PROJECT_REF: ref,
    STAGING_SUPABASE_ANON_KEY: anon,
  };
  const cases: [Record<string, string | undefined>, string][] = [
    [{ ...base, STAGING_DB_URL: undefined }, "STAGING_DB_URL is not set"],
    [
      { ...base, STAGING_DB_URL: "mysql://secret-pw@x" },
      "STAGING_DB_URL: expected a postgres:// URL",
    ],
    [
      { ...base, STAGING_PROJECT_REF: "Not-A-Ref" },
      "STAGING_PROJECT_REF: expected a 20-letter project ref",
    ],
    [{ ...base, STAGING_SUPABASE_ANON_KEY: "" }, "STAGING_SUPABASE_ANON_KEY is not set"],
    [
      { ...base, STAGING_SUPABASE_URL: "ftp://x" },
      "STAGING_SUPABASE_URL: expected an http(s):// URL",
    ],
  ];
  for (const [env, expected] of cases) {
    const error = await assertRejects(
      () => resolveEnvironment(file, "staging", { env }),
      ConfigError,
    );
    assertStringIncludes(error.message, expected);
    assert(!error.message.includes("secret-pw"), "the message must not echo a value");
  }
});

Deno.test("resolveEnvironment() uses the linked project's ref and builds its direct URL", async () => {
  const file = await loadEnvironments();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/project-ref`, `${ref}\n`);
    const env = await resolveEnvironment(file, "production", {
      env: { SUPABASE_DB_PASSWORD: "p@ss word", PRODUCTION_SUPABASE_ANON_KEY: anon },
      linkedRefFile: `${dir}/project-ref`,
    });
    assertEquals(env.projectRef, ref);
    assertEquals(env.database, {
      source: "linked",
      passwordVariable: "SUPABASE_DB_PASSWORD",
      password: "p@ss word",
      url: `postgresql://postgres:p%40ss%20word@db.${ref}.supabase.co:5432/postgres`,
    });
    // url_env (e.g. the session pooler) is the rollout's own connection when set.
    const pooled = await resolveEnvironment(file, "production", {
      env: {
        SUPABASE_DB_PASSWORD: "pw",
        PRODUCTION_SUPABASE_ANON_KEY: anon,
        PRODUCTION_DB_URL:
          "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres",
      },
      linkedRefFile: `${dir}/project-ref`,
    });
    assertEquals(
      pooled.database.source === "linked" && pooled.database.url.includes("pooler"),
      true,
    );
    await assertRejects(
      () =>
        resolveEnvironment(file, "production", {
          env: { SUPABASE_DB_PASSWORD: "x", PRODUCTION_SUPABASE_ANON_KEY: anon },
          linkedRefFile: `${dir}/none`,
        }),
      ConfigError,
      "no project is linked",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveEnvironment() needs no variables for the local stack", async () => {
  const env = await resolveEnvironment(await loadEnvironments(), "local", { env: {} });
  assertEquals(env.database, { source: "local_stack" });
  assertEquals(env.apiUrl, undefined);
  assert(env.traffic !== undefined, "local has synthetic traffic for monitoring");
});
