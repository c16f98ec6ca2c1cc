/**
 * The contenders of `deno task bench:kms`: each a way to encrypt and decrypt a card record
 * through KMS, on one of two workloads ("same card": every operation on one record; "new
 * cards": every operation a new row of a new user, as `POST /payment-methods` does). See
 * ./kms.ts for what each one stands for.
 *
 * @module
 */
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandInput,
} from "@aws-sdk/client-kms";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
} from "@aws-crypto/client-node";
import { DataKeyCache } from "../../supabase/functions/_shared/kms/data_key_cache.ts";
import { EnvelopeCipher } from "../../supabase/functions/_shared/kms/envelope.ts";
import { createKmsClient } from "../../supabase/functions/_shared/kms/kms_client.ts";
import type { KmsConfig } from "../../supabase/functions/_shared/kms/kms_config.ts";
import { KmsKeyring } from "../../supabase/functions/_shared/kms/kms_keyring.ts";
import type { KmsServer } from "../local/kms_server.ts";

/** The data-key cache's age limit for every cached contender. */
export const maxAgeMs = 300_000;
/** The data-key cache's byte limit for every cached contender. */
export const maxBytes = 1_048_576;
/** The KMS context every card shares (envelope format 2). */
const sharedContext = { environment: "bench", purpose: "payment_method" };

/** The record an operation works on. */
export interface Row {
  payment_method_id: string;
  user_id: string;
}

/** Which records a scenario's operations work on. */
export type WorkloadKind = "same_card" | "new_cards";

/** The records of `n` operations of workload `kind`. */
export function rowsFor(kind: WorkloadKind, n: number): Row[] {
  const same = { payment_method_id: crypto.randomUUID(), user_id: crypto.randomUUID() };
  return Array.from(
    { length: n },
    () =>
      kind === "same_card"
        ? same
        : { payment_method_id: crypto.randomUUID(), user_id: crypto.randomUUID() },
  );
}

/** Our scope of a row: shared KMS context, the row in the binding. */
const scopeOf = (row: Row) => ({ context: sharedContext, binding: { ...row } });
/** The AWS Encryption SDK's context of a row: its only AAD, and what it sends to KMS. */
const esdkContextOf = (row: Row): Record<string, string> => ({ ...sharedContext, ...row });

/** The card record every operation encrypts. */
export const payload: Uint8Array = new TextEncoder().encode(JSON.stringify({
  number: "4111111111111111",
  exp_month: 12,
  exp_year: 2030,
  holder_name: "Bench Marker",
}));

/** One contender set up against one endpoint. */
export interface Workload {
  encrypt(row: Row): Promise<Uint8Array>;
  decrypt(envelope: Uint8Array, row: Row): Promise<Uint8Array>;
  close(): void;
}

/** The limits a contender runs under. */
export interface ContenderLimits {
  /** Data-key cache: messages per data key. */
  maxMessages: number;
}

function ours(config: KmsConfig, cached: boolean, limits: ContenderLimits) {
  const handle = createKmsClient(config);
  const cipher = new EnvelopeCipher({
    keys: new KmsKeyring(handle.client, config.keyId),
    ...(cached
      ? {
        cache: new DataKeyCache(),
        policy: { partition: "bench", maxAgeMs, maxMessages: limits.maxMessages, maxBytes },
      }
      : {}),
  });
  return { handle, cipher };
}

/** A new client for every operation: a TCP + TLS handshake and a KMS round trip every time. */
function naiveWorkload(_server: KmsServer, config: KmsConfig, limits: ContenderLimits): Workload {
  /** Runs `use` with a cipher on a client of its own, then drops the client. */
  const once = async <T>(use: (cipher: EnvelopeCipher) => Promise<T>): Promise<T> => {
    const { handle, cipher } = ours(config, false, limits);
    try {
      return await use(cipher);
    } finally {
      handle.destroy();
    }
  };
  return {
    encrypt: (row) =>
      once(async (cipher) => (await cipher.encrypt(payload, scopeOf(row))).envelope),
    decrypt: (envelope, row) => once((cipher) => cipher.decrypt(envelope, scopeOf(row))),
    close() {},
  };
}

/** One keep-alive client for the run, with the data-key cache when `cached`. */
function pooledWorkload(cached: boolean) {
  return (_server: KmsServer, config: KmsConfig, limits: ContenderLimits): Workload => {
    const { handle, cipher } = ours(config, cached, limits);
    return {
      encrypt: async (row) => (await cipher.encrypt(payload, scopeOf(row))).envelope,
      decrypt: (envelope, row) => cipher.decrypt(envelope, scopeOf(row)),
      close: () => handle.destroy(),
    };
  };
}

/**
 * The AWS Encryption SDK with its caching CMM and our limits; its KMS keyring sends through a
 * pooled client of our own (and its counters), like the other scenarios.
 */
function esdkWorkload(server: KmsServer, config: KmsConfig, limits: ContenderLimits): Workload {
  const handle = createKmsClient(config);
  // The keyring calls the v2-style methods; this adapter sends them through the v3 client.
  const kms = {
    generateDataKey: (input: GenerateDataKeyCommandInput) =>
      handle.client.send(new GenerateDataKeyCommand(input)),
    decrypt: (input: DecryptCommandInput) => handle.client.send(new DecryptCommand(input)),
    encrypt: (input: EncryptCommandInput) => handle.client.send(new EncryptCommand(input)),
  };
  const keyring = new KmsKeyringNode({
    generatorKeyId: server.keyArn,
    // deno-lint-ignore no-explicit-any
    clientProvider: () => kms as any,
  });
  const cmm = new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(1000),
    partition: "bench",
    maxAge: maxAgeMs,
    maxMessagesEncrypted: limits.maxMessages,
    maxBytesEncrypted: maxBytes,
  });
  const esdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  return {
    async encrypt(row) {
      const { result } = await esdk.encrypt(cmm, payload, {
        encryptionContext: esdkContextOf(row),
        // Key commitment without per-message ECDSA signatures: like our envelopes, which
        // are not signed either.
        suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
        plaintextLength: payload.length,
      });
      return result;
    },
    async decrypt(envelope, row) {
      const { plaintext, messageHeader } = await esdk.decrypt(cmm, envelope);
      // The SDK reads the context from the message; binding it to the row is the caller's
      // check (what our binding does inside the AAD).
      const expected = esdkContextOf(row);
      const got = messageHeader.encryptionContext;
      for (const [key, value] of Object.entries(expected)) {
        if (got[key] !== value) throw new Error(`encryption context mismatch on ${key}`);
      }
      return plaintext;
    },
    close: () => handle.destroy(),
  };
}

/** One contender on one workload. */
export interface Contender {
  name: string;
  label: string;
  workload: WorkloadKind;
  make: (server: KmsServer, config: KmsConfig, limits: ContenderLimits) => Workload;
}

/** The contenders, in report order. */
export const contenders: readonly Contender[] = [
  {
    name: "naive",
    label: "naive: new client per operation",
    workload: "same_card",
    make: naiveWorkload,
  },
  {
    name: "pooled",
    label: "pooled client",
    workload: "same_card",
    make: pooledWorkload(false),
  },
  {
    name: "pooled_cached",
    label: "pooled client + data-key cache",
    workload: "same_card",
    make: pooledWorkload(true),
  },
  {
    name: "aws_encryption_sdk",
    label: "AWS Encryption SDK (caching CMM)",
    workload: "same_card",
    make: esdkWorkload,
  },
  {
    name: "new_cards_pooled_cached",
    label: "new cards: pooled client + data-key cache (row in the AAD)",
    workload: "new_cards",
    make: pooledWorkload(true),
  },
  {
    name: "new_cards_aws_encryption_sdk",
    label: "new cards: AWS Encryption SDK (caching CMM, row in the context)",
    workload: "new_cards",
    make: esdkWorkload,
  },
];
