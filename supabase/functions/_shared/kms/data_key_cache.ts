/**
 * A bounded in-isolate cache of data keys, with the limits of the AWS Encryption SDK's caching
 * materials manager: a key is reused for at most `maxAgeMs`, `maxMessages` messages and
 * `maxBytes` plaintext bytes, within one `partition`, then a new one is fetched from KMS.
 *
 * - Encryption side: entries are found by SHA-256 of (partition, encryption context) and hold a
 *   data key plus its KMS-encrypted form, written into every envelope it seals. The context is
 *   the KMS one only — envelopes bind their record through the AAD — so one entry serves many
 *   records (many new cards) until a limit retires it.
 * - Decryption side: entries are found by SHA-256 of (partition, encrypted data key, context) and
 *   hold the data key KMS returned for it, under the same limits.
 *
 * Concurrent misses share one KMS call: the first caller creates the entry synchronously (after
 * its digest) with the pending KMS promise and reserves one use of it; callers arriving while it
 * is in flight reserve further uses of the same entry, until a limit says the next caller needs a
 * new key. A failed call settles every waiter with the error and leaves nothing cached.
 *
 * Plaintext key bytes from KMS are imported as a non-extractable WebCrypto `CryptoKey` and zeroed
 * at once; the cache holds only the `CryptoKey`, dropped when it expires or is used up (a
 * `CryptoKey` cannot be wiped from JavaScript, only released).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { canonicalContext, type EncryptionContext } from "./encryption_context.ts";
import type { DataKeyCacheLimits } from "./kms_config.ts";
import type { DataKeyMaterial } from "./kms_keyring.ts";

/** Limits plus the partition they apply in. */
export interface CachePolicy extends DataKeyCacheLimits {
  /** Entries of different partitions are never shared, even in one cache. */
  partition: string;
}

/** A data key ready to encrypt with. */
export interface EncryptionDataKey {
  key: CryptoKey;
  encryptedKey: Uint8Array;
  keyArn: string;
}

/** Options for {@link DataKeyCache}. */
export interface DataKeyCacheOptions {
  /** Most entries kept; the least recently used goes first. @default 1000 */
  capacity?: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/** Counters of a cache (no keys, no contexts). */
export interface DataKeyCacheStats {
  hits: number;
  misses: number;
  /** Messages larger than `maxBytes`, served with a fresh, uncached key. */
  bypasses: number;
  /** Entries dropped for age. */
  expired: number;
  /** Entries dropped because a message or byte limit was reached, or for capacity. */
  retired: number;
}

interface Entry {
  value: Promise<unknown>;
  expiresAt: number;
  messages: number;
  bytes: number;
}

/** Imports 32 raw bytes as a non-extractable AES-GCM key and zeroes the bytes. */
export async function importDataKey(plaintext: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey(
      "raw",
      plaintext as Uint8Array<ArrayBuffer>,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  } finally {
    plaintext.fill(0);
  }
}

function assertPolicy(policy: CachePolicy): void {
  const { maxAgeMs, maxMessages, maxBytes, partition } = policy;
  if (!(Number.isFinite(maxAgeMs) && maxAgeMs > 0)) {
    throw new RangeError(`maxAgeMs must be > 0, received ${maxAgeMs}`);
  }
  if (!(Number.isInteger(maxMessages) && maxMessages >= 1 && maxMessages <= 2 ** 32)) {
    throw new RangeError(`maxMessages must be an integer in 1..2^32, received ${maxMessages}`);
  }
  if (!(Number.isInteger(maxBytes) && maxBytes >= 1)) {
    throw new RangeError(`maxBytes must be a positive integer, received ${maxBytes}`);
  }
  if (typeof partition !== "string" || partition.length === 0) {
    throw new RangeError("partition must be a non-empty string");
  }
}

const encoder = new TextEncoder();

// Synchronous on purpose: an awaited digest before the in-flight lookup would let concurrent
// callers reach #acquire at different turns, so a fast failure could be followed by a second
// KMS call instead of settling every waiter with the first one's result.
function digest(...parts: (string | Uint8Array)[]): string {
  const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  // Length-prefix every part so no two part lists hash the same bytes.
  const size = chunks.reduce((n, c) => n + 4 + c.length, 0);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let at = 0;
  for (const chunk of chunks) {
    view.setUint32(at, chunk.length);
    buf.set(chunk, at + 4);
    at += 4 + chunk.length;
  }
  return createHash("sha256").update(buf).digest("hex");
}

/** The cache; one per isolate is typical, shared by the ciphers of several partitions. */
export class DataKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;
  readonly #now: () => number;
  #lastSweep = -Infinity;
  #stats: DataKeyCacheStats = { hits: 0, misses: 0, bypasses: 0, expired: 0, retired: 0 };

  /** @throws {RangeError} for a capacity outside 1..1e6. */
  constructor(options: DataKeyCacheOptions = {}) {
    const { capacity = 1000, now = Date.now } = options;
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= 1_000_000)) {
      throw new RangeError(`capacity must be an integer in 1..1000000, received ${capacity}`);
    }
    this.#capacity = capacity;
    this.#now = now;
  }

  /** Entries held (including ones whose KMS call is in flight). */
  get size(): number {
    return this.#entries.size;
  }

  /** A copy of the counters. */
  stats(): DataKeyCacheStats {
    return { ...this.#stats };
  }

  /**
   * A data key to encrypt one message of `bytes` plaintext bytes under `context`: a cached one
   * while the policy allows, else one from `generate` (shared by concurrent callers).
   *
   * @throws whatever `generate` throws, to every caller waiting on that call.
   * @throws {RangeError} for an invalid policy or byte count.
   */
  async encryptionKey(
    policy: CachePolicy,
    context: EncryptionContext,
    bytes: number,
    generate: () => Promise<DataKeyMaterial>,
  ): Promise<EncryptionDataKey> {
    assertPolicy(policy);
    assertBytes(bytes);
    const load = async (): Promise<EncryptionDataKey> => {
      const material = await generate();
      const key = await importDataKey(material.plaintext);
      return { key, encryptedKey: material.encryptedKey, keyArn: material.keyArn };
    };
    if (bytes > policy.maxBytes) {
      this.#stats.bypasses++;
      return await load();
    }
    const id = digest("encrypt", policy.partition, canonicalContext(context));
    return await (this.#acquire(id, policy, bytes, load) as Promise<EncryptionDataKey>);
  }

  /**
   * The data key of `encryptedKey` under `context` to decrypt one message of `bytes` ciphertext
   * bytes: cached while the policy allows, else from `decrypt` (shared by concurrent callers).
   *
   * @throws whatever `decrypt` throws, to every caller waiting on that call.
   * @throws {RangeError} for an invalid policy or byte count.
   */
  async decryptionKey(
    policy: CachePolicy,
    encryptedKey: Uint8Array,
    context: EncryptionContext,
    bytes: number,
    decrypt: () => Promise<Uint8Array>,
  ): Promise<CryptoKey> {
    assertPolicy(policy);
    assertBytes(bytes);
    const load = async () => await importDataKey(await decrypt());
    if (bytes > policy.maxBytes) {
      this.#stats.bypasses++;
      return await load();
    }
    const id = digest("decrypt", policy.partition, encryptedKey, canonicalContext(context));
    return await (this.#acquire(id, policy, bytes, load) as Promise<CryptoKey>);
  }

  /** Drops every entry whose age limit has passed; returns how many. */
  sweep(): number {
    const now = this.#now();
    this.#lastSweep = now;
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (now >= entry.expiresAt) {
        this.#entries.delete(id);
        dropped++;
      }
    }
    this.#stats.expired += dropped;
    return dropped;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
  }

  // Synchronous from lookup to reservation: no await between finding (or creating) an entry and
  // counting this caller's use of it, which is what lets concurrent misses share one KMS call.
  #acquire(
    id: string,
    policy: CachePolicy,
    bytes: number,
    load: () => Promise<unknown>,
  ): Promise<unknown> {
    const now = this.#now();
    // Expired entries would be skipped on lookup anyway; sweeping at most once a second keeps
    // keys of contexts nobody asks for again from lingering until capacity pushes them out.
    if (now - this.#lastSweep >= 1000) this.sweep();

    let entry = this.#entries.get(id);
    if (entry) {
      this.#entries.delete(id);
      if (now >= entry.expiresAt) {
        this.#stats.expired++;
        entry = undefined;
      } else if (entry.messages >= policy.maxMessages || entry.bytes + bytes > policy.maxBytes) {
        this.#stats.retired++;
        entry = undefined;
      } else {
        this.#stats.hits++;
        this.#entries.set(id, entry); // most recently used goes last
      }
    }
    if (!entry) {
      this.#stats.misses++;
      const created: Entry = {
        value: load(),
        expiresAt: now + policy.maxAgeMs,
        messages: 0,
        bytes: 0,
      };
      created.value.catch(() => {
        if (this.#entries.get(id) === created) this.#entries.delete(id);
      });
      entry = created;
      this.#entries.set(id, entry);
      while (this.#entries.size > this.#capacity) {
        const oldest = this.#entries.keys().next().value as string;
        this.#entries.delete(oldest);
        this.#stats.retired++;
      }
    }
    entry.messages++;
    entry.bytes += bytes;
    if (entry.messages >= policy.maxMessages || entry.bytes >= policy.maxBytes) {
      // Used up: later callers get a new key; the callers holding this one still finish.
      if (this.#entries.get(id) === entry) {
        this.#entries.delete(id);
        this.#stats.retired++;
      }
    }
    return entry.value;
  }
}

function assertBytes(bytes: number): void {
  if (!(Number.isInteger(bytes) && bytes >= 0)) {
    throw new RangeError(`bytes must be a non-negative integer, received ${bytes}`);
  }
}
