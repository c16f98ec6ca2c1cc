/**
 * The byte layout of an envelope and what its AES-GCM additional authenticated data (AAD) is, by
 * version. Documented in `README.md` beside this file; readers reject any version or suite they
 * do not know, and every version ever written stays readable.
 *
 * ```
 * offset      size   field
 * 0           1      version            0x01 or 0x02
 * 1           1      suite              0x01 = AES-256-GCM, 96-bit IV, 128-bit tag
 * 2           2      N                  length of the encrypted data key, big-endian, 1..65535
 * 4           N      encrypted data key KMS CiphertextBlob of the 32-byte data key
 * 4+N         12     IV                 random per message
 * 16+N        L+16   ciphertext ‖ tag   AES-GCM output for an L-byte plaintext
 *
 * version 1: AAD = header ‖ UTF-8 of canonical(context)
 * version 2: AAD = header ‖ UTF-8 of `[` canonical(context) `,` canonical(binding) `]`
 * header = bytes [0, 4+N)
 * ```
 *
 * In version 1 every pair (row id included) was also the KMS encryption context, so each record
 * needed its own data key. Version 2 sends KMS only the `context` (pairs many records share) and
 * binds the record through the AAD alone (`binding`), so one data key seals many records.
 *
 * @module
 */
import {
  assertEncryptionContext,
  canonicalContext,
  type EncryptionContext,
} from "./encryption_context.ts";

/** Version 1: the whole context went to KMS (one data key per record). Read only. */
export const envelopeVersion1 = 1;
/** Version 2: KMS context shared by many records, the record bound through the AAD. */
export const envelopeVersion2 = 2;
/** The version new envelopes are written in. */
export const envelopeVersion = envelopeVersion2;
/** AES-256-GCM with a 96-bit IV and a 128-bit tag. */
export const suiteAes256Gcm = 1;
/** IV length in bytes. */
export const ivLength = 12;
/** GCM tag length in bytes. */
export const tagLength = 16;

/** Versions a reader accepts. */
export type EnvelopeVersion = typeof envelopeVersion1 | typeof envelopeVersion2;

/** The parts of an envelope. */
export interface EnvelopeParts {
  version: EnvelopeVersion;
  suite: number;
  encryptedKey: Uint8Array;
  iv: Uint8Array;
  /** Ciphertext with the tag appended, as WebCrypto returns it. */
  sealed: Uint8Array;
}

/** Thrown for bytes that are not a well-formed envelope of a known version. */
export class EnvelopeFormatError extends Error {
  override name = "EnvelopeFormatError";
}

function isVersion(version: number): version is EnvelopeVersion {
  return version === envelopeVersion1 || version === envelopeVersion2;
}

/**
 * The header bytes (version, suite, key length, encrypted key): the first part of the AAD.
 *
 * @throws {EnvelopeFormatError} for an encrypted key outside 1..65535 bytes or an unknown version.
 */
export function envelopeHeader(
  encryptedKey: Uint8Array,
  version: EnvelopeVersion = envelopeVersion,
): Uint8Array<ArrayBuffer> {
  if (!isVersion(version)) throw new EnvelopeFormatError(`unknown envelope version ${version}`);
  if (encryptedKey.length < 1 || encryptedKey.length > 0xffff) {
    throw new EnvelopeFormatError(
      `encrypted data key must be 1..65535 bytes, received ${encryptedKey.length}`,
    );
  }
  const header = new Uint8Array(4 + encryptedKey.length);
  header[0] = version;
  header[1] = suiteAes256Gcm;
  new DataView(header.buffer).setUint16(2, encryptedKey.length);
  header.set(encryptedKey, 4);
  return header;
}

const encoder = new TextEncoder();

/**
 * The AAD of an envelope of `version` with `header`.
 *
 * Version 2 puts the two canonical objects in a JSON array, so no pair can move from `binding`
 * to `context` (or back) and give the same bytes; the keys of the two must not overlap either.
 *
 * @example
 * ```ts
 * envelopeAad(header, 2, { purpose: "card" }, { user_id: "u1" });
 * // header ‖ '[{"purpose":"card"},{"user_id":"u1"}]'
 * ```
 * @throws {TypeError} for an invalid context or binding, overlapping keys, or a version-2 AAD
 *   without a binding (names keys, never values).
 */
export function envelopeAad(
  header: Uint8Array,
  version: EnvelopeVersion,
  context: EncryptionContext,
  binding?: EncryptionContext,
): Uint8Array<ArrayBuffer> {
  let text: string;
  if (version === envelopeVersion1) {
    text = canonicalContext(context);
  } else {
    if (!binding) throw new TypeError("a version-2 envelope needs a binding");
    assertEncryptionContext(binding);
    const shared = Object.keys(binding).filter((key) => Object.hasOwn(context, key));
    if (shared.length > 0) {
      throw new TypeError(`keys in both the context and the binding: ${shared.join(", ")}`);
    }
    text = `[${canonicalContext(context)},${canonicalContext(binding)}]`;
  }
  const tail = encoder.encode(text);
  const out = new Uint8Array(header.length + tail.length);
  out.set(header, 0);
  out.set(tail, header.length);
  return out;
}

/**
 * Serialises `parts`.
 *
 * @default version {@link envelopeVersion}
 * @throws {EnvelopeFormatError} for a wrong IV length or a sealed part shorter than the tag.
 */
export function encodeEnvelope(
  parts: Pick<EnvelopeParts, "encryptedKey" | "iv" | "sealed"> & { version?: EnvelopeVersion },
): Uint8Array<ArrayBuffer> {
  if (parts.iv.length !== ivLength) {
    throw new EnvelopeFormatError(`IV must be ${ivLength} bytes`);
  }
  if (parts.sealed.length < tagLength) {
    throw new EnvelopeFormatError("sealed part is shorter than the tag");
  }
  const header = envelopeHeader(parts.encryptedKey, parts.version ?? envelopeVersion);
  const out = new Uint8Array(header.length + ivLength + parts.sealed.length);
  out.set(header, 0);
  out.set(parts.iv, header.length);
  out.set(parts.sealed, header.length + ivLength);
  return out;
}

/**
 * Splits `bytes` into its parts (views into `bytes`, not copies).
 *
 * @throws {EnvelopeFormatError} for an unknown version or suite, or truncated bytes.
 */
export function decodeEnvelope(bytes: Uint8Array): EnvelopeParts & { header: Uint8Array } {
  if (bytes.length < 4) throw new EnvelopeFormatError("envelope is truncated");
  const version = bytes[0]!;
  const suite = bytes[1]!;
  if (!isVersion(version)) throw new EnvelopeFormatError(`unknown envelope version ${version}`);
  if (suite !== suiteAes256Gcm) throw new EnvelopeFormatError(`unknown envelope suite ${suite}`);
  const keyLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(2);
  const headerEnd = 4 + keyLength;
  if (keyLength === 0 || bytes.length < headerEnd + ivLength + tagLength) {
    throw new EnvelopeFormatError("envelope is truncated");
  }
  return {
    version,
    suite,
    header: bytes.subarray(0, headerEnd),
    encryptedKey: bytes.subarray(4, headerEnd),
    iv: bytes.subarray(headerEnd, headerEnd + ivLength),
    sealed: bytes.subarray(headerEnd + ivLength),
  };
}
