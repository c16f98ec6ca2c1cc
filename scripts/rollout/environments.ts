/**
 * Deploy targets, read from config/environments.json and resolved against the process
 * environment: how to reach the database, which project, which functions, and the default
 * monitoring window.
 *
 * The file names environment variables, never secrets; {@link resolveEnvironment} reads them and
 * fails with a {@link ConfigError} naming the variable (never its value) when one is
 * missing or malformed.
 *
 * @module
 */
import { z } from "zod";
import { durationSchema, parseDuration } from "../sla/sla.ts";
import { parseConfigJson } from "../_cli/config_json.ts";
import { ConfigError } from "../../supabase/functions/_shared/env.ts";
import { repoRoot } from "./paths.ts";

/** The environments a deploy can target. */
export const environmentNames = ["local", "staging", "production"] as const;

/** One of {@link environmentNames}. */
export type EnvironmentName = typeof environmentNames[number];

const envVarName = z.string().regex(
  /^[A-Z][A-Z0-9_]{0,127}$/,
  "expected an environment variable name",
);
const functionName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "expected a function name");
const duration = durationSchema("30s or 10m");

const databaseSchema = z.discriminatedUnion("source", [
  z.object({ source: z.literal("local_stack") }).strict(),
  z.object({ source: z.literal("url_env"), url_env: envVarName }).strict(),
  z.object({
    source: z.literal("linked"),
    password_env: envVarName,
    url_env: envVarName.optional(),
  })
    .strict(),
]);

const workloadSchema = z.object({
  scenario: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/),
  duration: duration.optional(),
  vus: z.number().int().min(1).max(1000),
}).strict();

const environmentSchema = z.object({
  description: z.string().optional(),
  kind: z.enum(["local", "hosted"]),
  database: databaseSchema,
  project_ref_env: envVarName.optional(),
  api: z.object({ url_env: envVarName.optional(), anon_key_env: envVarName }).strict().optional(),
  functions: z.array(functionName).min(1).refine((names) => new Set(names).size === names.length, {
    message: "functions must not repeat",
  }),
  monitor: duration,
  interval: duration,
  /** Phase 3's load test. */
  performance: workloadSchema.extend({ duration }),
  /** Synthetic traffic during monitoring, for targets without real users (the local stack). */
  traffic: workloadSchema.optional(),
}).strict().superRefine((env, ctx) => {
  const local = env.kind === "local";
  if (local !== (env.database.source === "local_stack")) {
    ctx.addIssue({
      code: "custom",
      path: ["database", "source"],
      message: local
        ? "a local environment uses local_stack"
        : "local_stack is only for kind local",
    });
  }
  if (!local && !env.project_ref_env) {
    ctx.addIssue({
      code: "custom",
      path: ["project_ref_env"],
      message: "required for kind hosted",
    });
  }
  if (!local && !env.api) {
    ctx.addIssue({ code: "custom", path: ["api"], message: "required for kind hosted" });
  }
});

const smokeSchema = z.object({
  method: z.enum(["GET", "POST"]).default("POST"),
  body: z.record(z.string(), z.unknown()).optional(),
  expect_status: z.array(z.number().int().min(100).max(599)).min(1),
}).strict();

const fileSchema = z.object({
  description: z.string().optional(),
  environments: z.object({
    local: environmentSchema,
    staging: environmentSchema,
    production: environmentSchema,
  }).strict(),
  smoke: z.record(functionName, smokeSchema).default({}),
}).strict();

/** The parsed config/environments.json. */
export type EnvironmentsFile = z.infer<typeof fileSchema>;
/** One environment as written in the file. */
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
/** How phase 2 smoke-calls a function. */
export type SmokeRequest = z.infer<typeof smokeSchema>;
/** A load-test or background-traffic workload. */
export type Workload = z.infer<typeof workloadSchema>;

/** The default location of the environments file. */
export const defaultEnvironmentsPath = `${repoRoot}/config/environments.json`;

/**
 * Reads and validates the environments file.
 *
 * @throws {ConfigError} naming the file and the first invalid field.
 */
export async function loadEnvironments(
  path: string = defaultEnvironmentsPath,
): Promise<EnvironmentsFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseConfigJson(fileSchema, text, path);
}

/** How the CLI reaches an environment's database. */
export type DatabaseTarget =
  /** The local stack's database; its URL is known once the stack is up. */
  | { source: "local_stack" }
  /** A Postgres URL from an environment variable, passed to `supabase db push --remote=<url>`. */
  | { source: "url_env"; variable: string; url: string }
  /**
   * The linked project: `supabase db push --remote` with the password in the CLI's environment.
   * The rollout's own connection (lock, flag, monitoring) uses `url`: url_env's value when that
   * variable is set (e.g. the session pooler on IPv4-only networks), else the direct host.
   */
  | { source: "linked"; passwordVariable: string; password: string; url: string };

/** An environment with its variables read: everything a deploy needs to reach it. */
export interface ResolvedEnvironment {
  name: EnvironmentName;
  kind: "local" | "hosted";
  database: DatabaseTarget;
  /** Hosted only. */
  projectRef?: string;
  /** Hosted only: the project's API URL (`https://<ref>.supabase.co` unless configured). */
  apiUrl?: string;
  /** Hosted only. */
  anonKey?: string;
  functions: string[];
  smoke: Record<string, SmokeRequest>;
  monitorMs: number;
  intervalMs: number;
  performance: Workload & { duration: string };
  traffic?: Workload;
}

/** Where `supabase link` records the linked project's ref. */
export const linkedRefPath = `${repoRoot}/supabase/.temp/project-ref`;

async function readLinkedRef(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim() || undefined;
  } catch {
    return undefined;
  }
}

const projectRefSchema = z.string().regex(/^[a-z]{20}$/, "expected a 20-letter project ref");
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, "expected a postgres:// URL");
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "expected an http(s):// URL");

/** Options of {@link resolveEnvironment}. */
export interface ResolveOptions {
  /** Variables to read. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /** Where `supabase link` wrote the project ref. @default supabase/.temp/project-ref */
  linkedRefFile?: string;
}

/**
 * Reads the variables `name`'s configuration points at.
 *
 * @throws {ConfigError} naming the variable that is missing or malformed.
 */
export async function resolveEnvironment(
  file: EnvironmentsFile,
  name: EnvironmentName,
  options: ResolveOptions = {},
): Promise<ResolvedEnvironment> {
  const { env = Deno.env.toObject(), linkedRefFile = linkedRefPath } = options;
  const config = file.environments[name];
  const read = (variable: string, schema: z.ZodString, what: string): string => {
    const value = env[variable];
    if (value === undefined || value === "") {
      throw new ConfigError(`environment ${name}: ${variable} is not set (${what})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new ConfigError(
        `environment ${name}: ${variable}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      );
    }
    return parsed.data;
  };

  let projectRef: string | undefined;
  if (config.kind === "hosted") {
    const variable = config.project_ref_env!;
    projectRef = env[variable]
      ? read(variable, projectRefSchema, "the project ref")
      : config.database.source === "linked"
      ? await readLinkedRef(linkedRefFile)
      : undefined;
    if (!projectRef) {
      throw new ConfigError(
        `environment ${name}: ${variable} is not set (the project ref)` +
          (config.database.source === "linked" ? " and no project is linked (supabase link)" : ""),
      );
    }
    const checked = projectRefSchema.safeParse(projectRef);
    if (!checked.success) {
      throw new ConfigError(`environment ${name}: linked project ref is malformed`);
    }
  }

  let database: DatabaseTarget;
  switch (config.database.source) {
    case "local_stack":
      database = { source: "local_stack" };
      break;
    case "url_env": {
      const variable = config.database.url_env;
      database = { source: "url_env", variable, url: read(variable, postgresUrl, "database URL") };
      break;
    }
    case "linked": {
      const variable = config.database.password_env;
      const password = read(variable, z.string().min(1), "database password");
      const urlVariable = config.database.url_env;
      database = {
        source: "linked",
        passwordVariable: variable,
        password,
        url: urlVariable && env[urlVariable]
          ? read(urlVariable, postgresUrl, "database URL")
          : `postgresql://postgres:${
            encodeURIComponent(password)
          }@db.${projectRef}.supabase.co:5432/postgres`,
      };
      break;
    }
  }

  const resolved: ResolvedEnvironment = {
    name,
    kind: config.kind,
    database,
    functions: [...config.functions],
    smoke: file.smoke,
    monitorMs: parseDuration(config.monitor),
    intervalMs: parseDuration(config.interval),
    performance: config.performance,
  };
  if (config.traffic) resolved.traffic = config.traffic;
  if (config.kind === "hosted") {
    const api = config.api!;
    resolved.projectRef = projectRef;
    resolved.apiUrl = api.url_env && env[api.url_env]
      ? read(api.url_env, httpUrl, "API URL").replace(/\/+$/, "")
      : `https://${projectRef}.supabase.co`;
    resolved.anonKey = read(api.anon_key_env, z.string().min(20), "anon key");
  }
  return resolved;
}
