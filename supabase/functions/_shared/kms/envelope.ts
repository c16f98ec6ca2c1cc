/**
 * Envelope encryption: a payload is sealed with AES-256-GCM (WebCrypto) under a data key from
 * KMS; the envelope carries the KMS-encrypted data key, so only a caller KMS lets decrypt that
 * key, under the same encryption context, can open it. The context goes to KMS with the data-key
 * operation and is bound as AAD, with the envelope header, to the payload. Layout: see
 * `envelope_format.ts` and `README.md`.
 *
 * With a {@link DataKeyCache}, data keys are reused within the cache policy's limits, so most
 * operations cost no KMS round trip.
 *
 * @module
 */
import { type CachePolicy, type DataKeyCache, importDataKey } from "./data_key_cache.ts";
import { canonicalContext, type EncryptionContext } from "./encryption_context.ts";
import {
  decodeEnvelope,
  encodeEnvelope,
  EnvelopeFormatError,
  envelopeHeader,
  ivLength,
  tagLength,
} from "./envelope_format.ts";
import { DecryptionError } from "./kms_error.ts";
import type { DataKeyProvider } from "./kms_keyring.ts";

/** Options for {@link EnvelopeCipher}. */
export interface EnvelopeCipherOptions {
  /** Where data keys come from (a `KmsKeyring`). */
  keys: DataKeyProvider;
  /** Reuse data keys through this cache under `policy`. @default no caching: one KMS call per operation */
  cache?: DataKeyCache;
  /** Required with `cache`. */
  policy?: CachePolicy;
}

/** The result of {@link EnvelopeCipher.encrypt}. */
export interface SealedEnvelope {
  /** The envelope bytes (format version 1). */
  envelope: Uint8Array;
  /** ARN of the KMS key that protects the data key. */
  keyArn: string;
}

const encoder = new TextEncoder();

function aad(header: Uint8Array, context: EncryptionContext): Uint8Array<ArrayBuffer> {
  const ctx = encoder.encode(canonicalContext(context));
  const out = new Uint8Array(header.length + ctx.length);
  out.set(header, 0);
  out.set(ctx, header.length);
  return out;
}

/** Seals and opens envelopes. */
export class EnvelopeCipher {
  readonly #keys: DataKeyProvider;
  readonly #cache?: DataKeyCache;
  readonly #policy?: CachePolicy;

  /** @throws {TypeError} when `cache` is given without `policy`. */
  constructor(options: EnvelopeCipherOptions) {
    if (options.cache && !options.policy) {
      throw new TypeError("a cache needs a policy (partition, maxAgeMs, maxMessages, maxBytes)");
    }
    this.#keys = options.keys;
    this.#cache = options.cache;
    this.#policy = options.policy;
  }

  /**
   * Seals `plaintext` under `context`.
   *
   * @example
   * ```ts
   * const { envelope } = await cipher.encrypt(bytes, { user_id, purpose: "payment_method", payment_method_id });
   * ```
   * @throws {KmsUnavailableError | KmsRequestError} when no data key can be had.
   * @throws {TypeError} for an invalid context.
   */
  async encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<SealedEnvelope> {
    canonicalContext(context); // validates before any KMS call
    const dataKey = this.#cache && this.#policy
      ? await this.#cache.encryptionKey(
        this.#policy,
        context,
        plaintext.length,
        () => this.#keys.generateDataKey(context),
      )
      : await (async () => {
        const material = await this.#keys.generateDataKey(context);
        return { ...material, key: await importDataKey(material.plaintext) };
      })();
    const header = envelopeHeader(dataKey.encryptedKey);
    const iv = crypto.getRandomValues(new Uint8Array(ivLength));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad(header, context), tagLength: tagLength * 8 },
        dataKey.key,
        plaintext as Uint8Array<ArrayBuffer>,
      ),
    );
    return {
      envelope: encodeEnvelope({ encryptedKey: dataKey.encryptedKey, iv, sealed }),
      keyArn: dataKey.keyArn,
    };
  }

  /**
   * Opens `envelope` under `context` (which must equal the context it was sealed under).
   *
   * @throws {DecryptionError} for a malformed or tampered envelope, or another context.
   * @throws {KmsUnavailableError | KmsRequestError} when KMS cannot decrypt the data key.
   */
  async decrypt(envelope: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    canonicalContext(context);
    let parts;
    try {
      parts = decodeEnvelope(envelope);
    } catch (error) {
      if (error instanceof EnvelopeFormatError) {
        throw new DecryptionError(`envelope rejected: ${error.message}`);
      }
      throw error;
    }
    const encryptedKey = parts.encryptedKey.slice();
    const key = this.#cache && this.#policy
      ? await this.#cache.decryptionKey(
        this.#policy,
        encryptedKey,
        context,
        parts.sealed.length - tagLength,
        () => this.#keys.decryptDataKey(encryptedKey, context),
      )
      : await importDataKey(await this.#keys.decryptDataKey(encryptedKey, context));
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: parts.iv.slice(),
            additionalData: aad(parts.header, context),
            tagLength: tagLength * 8,
          },
          key,
          parts.sealed.slice(),
        ),
      );
    } catch {
      throw new DecryptionError(
        "envelope rejected: authentication failed (tampered or other context)",
      );
    }
  }
}
