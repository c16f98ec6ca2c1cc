/**
 * The local KMS endpoint's key store: one 256-bit AES-GCM key (local key material, optionally
 * kept in a key file across runs), its identity (key id, ARN, alias), and the cryptography of
 * Encrypt, Decrypt and GenerateDataKey. Nothing here knows about HTTP; `kms_protocol.ts` turns
 * its errors into AWS error types.
 *
 * A ciphertext blob embeds the key id and is bound to its encryption context as AAD, so a blob
 * presented with any other context fails to open, as in AWS. The blob layout is private to this
 * store (AWS's is opaque too):
 *
 * ```
 * 0x01 | key id length (1 byte) | key id (UTF-8) | IV (12 bytes) | AES-GCM ciphertext + tag (16)
 * AAD = the bytes before the IV ‖ 0x00 ‖ canonical JSON of the encryption context (sorted keys)
 * ```
 *
 * @module
 */
import { z } from "zod";

/** A KMS encryption context: pairs the ciphertext is bound to. */
export type EncryptionContext = Record<string, string>;

/** Thrown for a key id that names no key of the store (AWS: `NotFoundException`). */
export class UnknownKeyError extends Error {
  override name = "UnknownKeyError";
  constructor(readonly keyId: string) {
    super(`Key '${keyId}' does not exist`);
  }
}

/**
 * Thrown for a blob that is not this key's, is damaged, or is presented with another context
 * (AWS: `InvalidCiphertextException`).
 */
export class InvalidCiphertextError extends Error {
  override name = "InvalidCiphertextError";
  constructor() {
    super("The ciphertext is invalid for this key");
  }
}

/** The key of a running endpoint and what it does. */
export interface KmsKeyStore {
  /** The key id (a UUID); its ARN and {@link kmsAlias} name it too. */
  readonly keyId: string;
  readonly keyArn: string;
  /** When the key material was created (ISO 8601). */
  readonly createdAt: string;
  /** @throws {UnknownKeyError} unless `keyId` names this key (id, ARN, alias or alias ARN). */
  resolve(keyId: string): void;
  /** Seals `plaintext` bound to `context`. */
  encrypt(plaintext: Uint8Array, context?: EncryptionContext): Promise<Uint8Array>;
  /** Opens a blob of {@link encrypt}. @throws {InvalidCiphertextError} */
  decrypt(blob: Uint8Array, context?: EncryptionContext): Promise<Uint8Array>;
  /** A fresh random data key of `bytes`, in plaintext and sealed bound to `context`. */
  generateDataKey(
    bytes: number,
    context?: EncryptionContext,
  ): Promise<{ plaintext: Uint8Array; blob: Uint8Array }>;
}

/** Options of {@link openKeyStore}. */
export interface KeyStoreOptions {
  /** Region in the key ARN. @default "us-east-1" */
  region?: string;
  /**
   * Keep the key id and key material in this JSON file (created with mode 0600 when missing), so
   * data encrypted in one run decrypts in the next. @default a fresh key
   */
  keyFile?: string;
}

/** The alias the local key answers to. */
export const kmsAlias = "alias/parker-flight-local";

const blobVersion = 1;
const ivBytes = 12;
const tagBytes = 16;

/** Standard base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function canonicalContext(context: EncryptionContext | undefined): string {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The key file's content. */
interface KeyRecord {
  keyId: string;
  material: string;
  createdAt: string;
}

const keyRecordSchema = z.object({
  keyId: z.uuid(),
  material: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  createdAt: z.string(),
});

async function loadKey(keyFile: string | undefined): Promise<KeyRecord> {
  if (keyFile) {
    try {
      return keyRecordSchema.parse(JSON.parse(await Deno.readTextFile(keyFile)));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(
          `KMS key file ${keyFile} is unreadable or malformed; delete it to start over`,
        );
      }
    }
  }
  const record: KeyRecord = {
    keyId: crypto.randomUUID(),
    material: toBase64(crypto.getRandomValues(new Uint8Array(32))),
    createdAt: new Date().toISOString(),
  };
  if (keyFile) {
    const dir = keyFile.replace(/\/[^/]*$/, "");
    if (dir && dir !== keyFile) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(keyFile, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  }
  return record;
}

/**
 * Opens the store: the key of `keyFile` (created there when missing), else a fresh one.
 *
 * @example
 * ```ts
 * const keys = await openKeyStore({ keyFile: ".local/kms/key.json" });
 * const blob = await keys.encrypt(new TextEncoder().encode("hi"), { purpose: "test" });
 * ```
 * @throws {Error} when `keyFile` exists but is unreadable or malformed.
 */
export async function openKeyStore(options: KeyStoreOptions = {}): Promise<KmsKeyStore> {
  const { region = "us-east-1", keyFile } = options;
  const key = await loadKey(keyFile);
  const keyArn = `arn:aws:kms:${region}:000000000000:key/${key.keyId}`;
  const aliasArn = `arn:aws:kms:${region}:000000000000:${kmsAlias}`;
  const aesKey = await crypto.subtle.importKey(
    "raw",
    fromBase64(key.material),
    "AES-GCM",
    false,
    ["encrypt", "decrypt"],
  );
  const keyIdBytes = new TextEncoder().encode(key.keyId);
  const aadOf = (header: Uint8Array, context?: EncryptionContext) =>
    concat(header, Uint8Array.of(0), new TextEncoder().encode(canonicalContext(context)));

  async function encrypt(plaintext: Uint8Array, context?: EncryptionContext) {
    const header = concat(Uint8Array.of(blobVersion, keyIdBytes.length), keyIdBytes);
    const iv = crypto.getRandomValues(new Uint8Array(ivBytes));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aadOf(header, context) },
      aesKey,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return concat(header, iv, new Uint8Array(sealed));
  }

  async function decrypt(blob: Uint8Array, context?: EncryptionContext) {
    if (blob.length < 2 || blob[0] !== blobVersion) throw new InvalidCiphertextError();
    const headerEnd = 2 + blob[1]!;
    if (blob.length < headerEnd + ivBytes + tagBytes) throw new InvalidCiphertextError();
    const blobKeyId = new TextDecoder().decode(blob.subarray(2, headerEnd));
    if (blobKeyId !== key.keyId) throw new InvalidCiphertextError();
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: blob.slice(headerEnd, headerEnd + ivBytes),
          additionalData: aadOf(blob.subarray(0, headerEnd), context),
        },
        aesKey,
        blob.slice(headerEnd + ivBytes),
      );
      return new Uint8Array(plain);
    } catch {
      throw new InvalidCiphertextError();
    }
  }

  return {
    keyId: key.keyId,
    keyArn,
    createdAt: key.createdAt,
    resolve(keyId) {
      if ([key.keyId, keyArn, kmsAlias, aliasArn].includes(keyId)) return;
      throw new UnknownKeyError(keyId);
    },
    encrypt,
    decrypt,
    async generateDataKey(bytes, context) {
      const plaintext = crypto.getRandomValues(new Uint8Array(bytes));
      return { plaintext, blob: await encrypt(plaintext, context) };
    },
  };
}
