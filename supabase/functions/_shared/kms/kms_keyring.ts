/**
 * Data keys from one KMS key: `GenerateDataKey` (AES_256) for encryption and `Decrypt` of an
 * encrypted data key, both under an encryption context. SDK errors become the three
 * {@link KmsError} kinds.
 *
 * @module
 */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { Clock } from "../clock.ts";
import { withDeadline } from "../deadline.ts";
import { assertEncryptionContext, type EncryptionContext } from "./encryption_context.ts";
import { classifyKmsError, KmsRequestError } from "./kms_error.ts";

/** A fresh data key: its plaintext (the caller zeroes it once imported) and its KMS-encrypted form. */
export interface DataKeyMaterial {
  /** 32 bytes of AES-256 key. Secret: zero it after use. */
  plaintext: Uint8Array;
  /** KMS ciphertext of the data key, bound to the encryption context. */
  encryptedKey: Uint8Array;
  /** ARN of the KMS key that encrypted it. */
  keyArn: string;
}

/** Where data keys come from; {@link KmsKeyring} is the real one. */
export interface DataKeyProvider {
  generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial>;
  /** @returns the plaintext data key (secret: zero it after use). */
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}

/** Options for {@link KmsKeyring}. */
export interface KmsKeyringOptions {
  /**
   * Longest one call may take, the SDK's retries included; then its request is aborted and the
   * call fails as unavailable. @default 4000 (KMS_CALL_TIMEOUT_MS)
   */
  callTimeoutMs?: number;
  clock?: Clock;
}

/**
 * Data keys under the KMS key `keyId`, through `client`. Every call carries a deadline whose
 * abort signal reaches the SDK's HTTP handler, so a KMS endpoint that accepts and never answers
 * costs a call at most `callTimeoutMs`. A call's data key may be shared by concurrent requests
 * (the data-key cache), so its deadline is its own, not one request's: each request stops
 * waiting at its own budget.
 */
export class KmsKeyring implements DataKeyProvider {
  readonly #callTimeoutMs: number;
  readonly #clock?: Clock;

  /**
   * @param client A long-lived client (see `isolateKmsClient`).
   * @param keyId Key id, ARN or alias; also passed on `Decrypt` so a ciphertext of any other key
   *   is refused by KMS.
   */
  constructor(readonly client: KMSClient, readonly keyId: string, options: KmsKeyringOptions = {}) {
    const { callTimeoutMs = 4000, clock } = options;
    if (!Number.isFinite(callTimeoutMs) || callTimeoutMs <= 0) {
      throw new RangeError(`KmsKeyring callTimeoutMs: expected ms > 0, received ${callTimeoutMs}`);
    }
    this.#callTimeoutMs = callTimeoutMs;
    this.#clock = clock;
  }

  /** Runs one KMS call under its deadline; a failure comes out classified (`kms_error.ts`). */
  async #send<T>(operation: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withDeadline(send, this.#callTimeoutMs, `KMS ${operation}`, this.#clock, "kms");
    } catch (error) {
      throw classifyKmsError(operation, error);
    }
  }

  /**
   * @throws {KmsUnavailableError} after the SDK's retries.
   * @throws {KmsRequestError} when KMS refuses the key or the credentials.
   */
  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    assertEncryptionContext(context);
    const out = await this.#send("GenerateDataKey", (abortSignal) =>
      this.client.send(
        new GenerateDataKeyCommand({
          KeyId: this.keyId,
          KeySpec: "AES_256",
          EncryptionContext: { ...context },
        }),
        { abortSignal },
      ));
    if (out.Plaintext?.length !== 32 || !out.CiphertextBlob?.length || !out.KeyId) {
      out.Plaintext?.fill(0);
      throw new KmsRequestError("KMS GenerateDataKey answered without a 32-byte key");
    }
    return { plaintext: out.Plaintext, encryptedKey: out.CiphertextBlob, keyArn: out.KeyId };
  }

  /**
   * @throws {DecryptionError} when KMS rejects the encrypted key under this context.
   * @throws {KmsUnavailableError} after the SDK's retries.
   * @throws {KmsRequestError} when KMS refuses the key or the credentials.
   */
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    assertEncryptionContext(context);
    const out = await this.#send("Decrypt", (abortSignal) =>
      this.client.send(
        new DecryptCommand({
          CiphertextBlob: encryptedKey,
          EncryptionContext: { ...context },
          KeyId: this.keyId,
        }),
        { abortSignal },
      ));
    if (out.Plaintext?.length !== 32) {
      out.Plaintext?.fill(0);
      throw new KmsRequestError("KMS Decrypt answered without a 32-byte key");
    }
    return out.Plaintext;
  }
}
