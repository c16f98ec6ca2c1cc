/**
 * Envelope encryption: a payload is sealed with AES-256-GCM (WebCrypto) under a data key from
 * KMS; the envelope carries the KMS-encrypted data key, so only a caller KMS lets decrypt that
 * key, under the same encryption context, can open it.
 *
 * Two sets of pairs say what an envelope is for (see {@link EnvelopeScope}): the KMS
 * `context`, which many records share (purpose, environment) and KMS binds the data key to, and
 * the `binding`, which names one record (row id, user id) and is bound to the payload only, as
 * AES-GCM additional authenticated data. Because the record is not in the KMS context, one data
 * key from the {@link DataKeyCache} seals many new records; because it is in the AAD, an envelope
 * moved to another record still fails to open. Layout and AAD by version: `envelope_format.ts`
 * and `README.md`.
 *
 * @module
 */
import { type CachePolicy, type DataKeyCache, importDataKey } from "./data_key_cache.ts";
import type { EncryptionContext } from "./encryption_context.ts";
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeAad,
  EnvelopeFormatError,
  envelopeHeader,
  type EnvelopeVersion,
  envelopeVersion,
  envelopeVersion1,
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

/** What an envelope is bound to. The two must not share a key. */
export interface EnvelopeScope {
  /**
   * The KMS encryption context: only pairs many records share (e.g. purpose, environment), or
   * every record needs its own data key. Sent to KMS, recorded in its audit log, bound as AAD.
   */
  context: EncryptionContext;
  /**
   * The record (e.g. row id, user id): bound as AAD only, never sent to KMS. Build it from the
   * stored record when opening, never from a request.
   */
  binding: EncryptionContext;
}

/** What {@link EnvelopeCipher.decrypt} needs: the scope, and how version 1 bound the record. */
export interface OpenScope extends EnvelopeScope {
  /**
   * The whole KMS context a version-1 envelope of this record was sealed under (version 1 sent
   * every pair, the record's included, to KMS). Without it a version-1 envelope is refused.
   */
  v1Context?: EncryptionContext;
}

/** The result of {@link EnvelopeCipher.encrypt}. */
export interface SealedEnvelope {
  /** The envelope bytes. */
  envelope: Uint8Array;
  /** Its format version (the first byte): {@link envelopeVersion}. */
  version: EnvelopeVersion;
  /** ARN of the KMS key that protects the data key. */
  keyArn: string;
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
   * Seals `plaintext` for the record `scope.binding`, in the current format version, under a
   * data key for `scope.context` (a cached one while the cache policy allows).
   *
   * @example
   * ```ts
   * const { envelope, version } = await cipher.encrypt(bytes, {
   *   context: { purpose: "payment_method", environment: "production" },
   *   binding: { payment_method_id: id, user_id: userId },
   * });
   * ```
   * @throws {KmsUnavailableError | KmsRequestError} when no data key can be had.
   * @throws {TypeError} for an invalid context or binding, or one key in both.
   */
  async encrypt(plaintext: Uint8Array, scope: EnvelopeScope): Promise<SealedEnvelope> {
    const { context, binding } = scope;
    // Validates both before any KMS call (the header here is a placeholder of the right shape).
    envelopeAad(Uint8Array.of(envelopeVersion), envelopeVersion, context, binding);
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
    const header = envelopeHeader(dataKey.encryptedKey, envelopeVersion);
    const iv = crypto.getRandomValues(new Uint8Array(ivLength));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv,
          additionalData: envelopeAad(header, envelopeVersion, context, binding),
          tagLength: tagLength * 8,
        },
        dataKey.key,
        plaintext as Uint8Array<ArrayBuffer>,
      ),
    );
    return {
      envelope: encodeEnvelope({
        encryptedKey: dataKey.encryptedKey,
        iv,
        sealed,
        version: envelopeVersion,
      }),
      version: envelopeVersion,
      keyArn: dataKey.keyArn,
    };
  }

  /**
   * Opens `envelope` for the record `scope.binding` (which, with `scope.context`, must equal
   * what it was sealed for). A version-1 envelope is opened under `scope.v1Context` instead.
   *
   * @throws {DecryptionError} for a malformed or tampered envelope, another record or context,
   *   or a version-1 envelope without `v1Context`.
   * @throws {KmsUnavailableError | KmsRequestError} when KMS cannot decrypt the data key.
   * @throws {TypeError} for an invalid context or binding.
   */
  async decrypt(envelope: Uint8Array, scope: OpenScope): Promise<Uint8Array> {
    let parts;
    try {
      parts = decodeEnvelope(envelope);
    } catch (error) {
      if (error instanceof EnvelopeFormatError) {
        throw new DecryptionError(`envelope rejected: ${error.message}`);
      }
      throw error;
    }
    let context: EncryptionContext;
    let additionalData: Uint8Array<ArrayBuffer>;
    if (parts.version === envelopeVersion1) {
      if (!scope.v1Context) {
        throw new DecryptionError("envelope rejected: version 1 needs the version-1 context");
      }
      context = scope.v1Context;
      additionalData = envelopeAad(parts.header, parts.version, context);
    } else {
      context = scope.context;
      additionalData = envelopeAad(parts.header, parts.version, context, scope.binding);
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
          { name: "AES-GCM", iv: parts.iv.slice(), additionalData, tagLength: tagLength * 8 },
          key,
          parts.sealed.slice(),
        ),
      );
    } catch {
      throw new DecryptionError(
        "envelope rejected: authentication failed (tampered, or another record or context)",
      );
    }
  }
}
