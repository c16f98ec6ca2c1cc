/**
 * KMS settings of an isolate, read once from the environment.
 *
 * Region and credentials are explicit because the SDK's default providers read `~/.aws` files,
 * which the edge runtime cannot. `KMS_ENDPOINT` points the client at another endpoint (the local
 * KMS of the stack and tests); `KMS_CA_CERT_FILE` names a PEM CA the client trusts in addition
 * to the system roots — verification is never turned off.
 *
 * @module
 */
import { z } from "zod";
import { type EnvSource, intVar, processEnv, readEnv } from "../env.ts";

/** Limits of the data-key cache, as in the AWS Encryption SDK's caching materials manager. */
export interface DataKeyCacheLimits {
  /** A data key is used at most this long after it was requested, ms. */
  maxAgeMs: number;
  /** A data key encrypts (or decrypts) at most this many messages. */
  maxMessages: number;
  /** A data key encrypts (or decrypts) at most this many plaintext bytes. */
  maxBytes: number;
}

/** Everything the KMS client and the data-key cache need. */
export interface KmsConfig {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Key id, key ARN, alias name or alias ARN of the KMS key. */
  keyId: string;
  /** Endpoint override, e.g. `https://127.0.0.1:4566`. @default the regional AWS endpoint */
  endpoint?: string;
  /** PEM file of a CA to trust for the endpoint's certificate. */
  caCertFile?: string;
  /** Attempts per call, first included (SDK retry strategy). @default 3 */
  maxAttempts: number;
  /** SDK retry mode: `standard` (jittered exponential backoff) or `adaptive` (plus client-side rate limiting). @default standard */
  retryMode: "standard" | "adaptive";
  /** Give up connecting (TCP + TLS) after this many ms. @default 1000 */
  connectTimeoutMs: number;
  /** Give up on one attempt's answer after this many ms (then the SDK may retry). @default 1500 */
  requestTimeoutMs: number;
  /**
   * Give up on a whole KMS call, retries included, after this many ms: its SDK request is
   * aborted. Below the payment-methods budget, so the request can still answer. @default 4000
   */
  callTimeoutMs: number;
  /** Most connections the client keeps open. @default 16 */
  maxSockets: number;
  /**
   * The `environment` pair of the KMS encryption context (`KMS_CONTEXT_ENVIRONMENT`), shared by
   * every envelope a project writes. @default {@link defaultContextEnvironment}
   */
  contextEnvironment: string;
  /** Data-key cache limits. */
  cache: DataKeyCacheLimits & {
    /** Most distinct data keys kept (per cache). @default 1000 */
    capacity: number;
  };
}

// AES-GCM with random 96-bit IVs stays within NIST SP 800-38D's bound only up to 2^32 messages
// per key; a cache may never reuse a data key beyond that.
const maxMessagesPerKey = 2 ** 32;

const optionalText = z.string().min(1).optional();

/**
 * `KMS_CONTEXT_ENVIRONMENT` when unset. Set it per project (`staging`, `production`) before the
 * first envelope is written: KMS decrypts a data key only under the context it was generated
 * with, so changing the value later makes the envelopes written before unreadable.
 */
export const defaultContextEnvironment = "default";

/**
 * Reads {@link KmsConfig} from `source`.
 *
 * Variables: `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
 * (optional), `KMS_KEY_ID`, `KMS_ENDPOINT`, `KMS_CA_CERT_FILE`, `KMS_MAX_ATTEMPTS`,
 * `KMS_RETRY_MODE`, `KMS_CONNECT_TIMEOUT_MS`, `KMS_REQUEST_TIMEOUT_MS`, `KMS_CALL_TIMEOUT_MS`,
 * `KMS_MAX_SOCKETS`,
 * `KMS_DATA_KEY_MAX_AGE_MS`, `KMS_DATA_KEY_MAX_MESSAGES`, `KMS_DATA_KEY_MAX_BYTES`,
 * `KMS_DATA_KEY_CACHE_CAPACITY`, `KMS_CONTEXT_ENVIRONMENT`.
 *
 * @throws {ConfigError} naming a missing or malformed variable (never its value).
 */
export function kmsConfig(source: EnvSource = processEnv()): KmsConfig {
  const env = readEnv(
    z.object({
      AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "expected a region like eu-west-1"),
      AWS_ACCESS_KEY_ID: z.string().min(1),
      AWS_SECRET_ACCESS_KEY: z.string().min(1),
      AWS_SESSION_TOKEN: optionalText,
      KMS_KEY_ID: z.string().min(1).max(2048),
      KMS_ENDPOINT: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
      KMS_CA_CERT_FILE: optionalText,
      KMS_MAX_ATTEMPTS: intVar(3, { max: 10 }),
      KMS_RETRY_MODE: z.enum(["standard", "adaptive"]).default("standard"),
      KMS_CONNECT_TIMEOUT_MS: intVar(1000, { max: 60_000 }),
      KMS_REQUEST_TIMEOUT_MS: intVar(1500, { max: 120_000 }),
      KMS_CALL_TIMEOUT_MS: intVar(4000, { max: 600_000 }),
      KMS_MAX_SOCKETS: intVar(16, { max: 1000 }),
      KMS_DATA_KEY_MAX_AGE_MS: intVar(300_000, { max: 86_400_000 }),
      KMS_DATA_KEY_MAX_MESSAGES: intVar(100, { max: maxMessagesPerKey }),
      KMS_DATA_KEY_MAX_BYTES: intVar(1_048_576, { max: Number.MAX_SAFE_INTEGER }),
      KMS_DATA_KEY_CACHE_CAPACITY: intVar(1000, { max: 100_000 }),
      KMS_CONTEXT_ENVIRONMENT: z.string().regex(
        /^[a-z0-9][a-z0-9_.-]{0,63}$/,
        "expected 1..64 lower-case letters, digits, '_', '.', '-'",
      ).default(defaultContextEnvironment),
    }),
    source,
  );
  return {
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
    keyId: env.KMS_KEY_ID,
    endpoint: env.KMS_ENDPOINT,
    caCertFile: env.KMS_CA_CERT_FILE,
    maxAttempts: env.KMS_MAX_ATTEMPTS,
    retryMode: env.KMS_RETRY_MODE,
    connectTimeoutMs: env.KMS_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: env.KMS_REQUEST_TIMEOUT_MS,
    callTimeoutMs: env.KMS_CALL_TIMEOUT_MS,
    maxSockets: env.KMS_MAX_SOCKETS,
    contextEnvironment: env.KMS_CONTEXT_ENVIRONMENT,
    cache: {
      maxAgeMs: env.KMS_DATA_KEY_MAX_AGE_MS,
      maxMessages: env.KMS_DATA_KEY_MAX_MESSAGES,
      maxBytes: env.KMS_DATA_KEY_MAX_BYTES,
      capacity: env.KMS_DATA_KEY_CACHE_CAPACITY,
    },
  };
}
