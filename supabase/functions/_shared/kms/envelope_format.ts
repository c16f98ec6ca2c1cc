/**
 * The byte layout of an envelope (version 1). Documented in `README.md` beside this file;
 * readers must reject any version or suite they do not know.
 *
 * ```
 * offset      size   field
 * 0           1      version            0x01
 * 1           1      suite              0x01 = AES-256-GCM, 96-bit IV, 128-bit tag
 * 2           2      N                  length of the encrypted data key, big-endian, 1..65535
 * 4           N      encrypted data key KMS CiphertextBlob of the 32-byte data key
 * 4+N         12     IV                 random per message
 * 16+N        L+16   ciphertext ‖ tag   AES-GCM output for an L-byte plaintext
 *
 * AAD = bytes [0, 4+N) (the header) ‖ UTF-8 of the canonical encryption context JSON
 * ```
 *
 * @module
 */

/** Current format version. */
export const envelopeVersion = 1;
/** AES-256-GCM with a 96-bit IV and a 128-bit tag. */
export const suiteAes256Gcm = 1;
/** IV length in bytes. */
export const ivLength = 12;
/** GCM tag length in bytes. */
export const tagLength = 16;

/** The parts of an envelope. */
export interface EnvelopeParts {
  version: number;
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

/** The header bytes (version, suite, key length, encrypted key): the first part of the AAD. */
export function envelopeHeader(encryptedKey: Uint8Array): Uint8Array<ArrayBuffer> {
  if (encryptedKey.length < 1 || encryptedKey.length > 0xffff) {
    throw new EnvelopeFormatError(
      `encrypted data key must be 1..65535 bytes, received ${encryptedKey.length}`,
    );
  }
  const header = new Uint8Array(4 + encryptedKey.length);
  header[0] = envelopeVersion;
  header[1] = suiteAes256Gcm;
  new DataView(header.buffer).setUint16(2, encryptedKey.length);
  header.set(encryptedKey, 4);
  return header;
}

/** Serialises `parts` (version 1 only). */
export function encodeEnvelope(
  parts: Pick<EnvelopeParts, "encryptedKey" | "iv" | "sealed">,
): Uint8Array<ArrayBuffer> {
  if (parts.iv.length !== ivLength) {
    throw new EnvelopeFormatError(`IV must be ${ivLength} bytes`);
  }
  if (parts.sealed.length < tagLength) {
    throw new EnvelopeFormatError("sealed part is shorter than the tag");
  }
  const header = envelopeHeader(parts.encryptedKey);
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
  if (version !== envelopeVersion) {
    throw new EnvelopeFormatError(`unknown envelope version ${version}`);
  }
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
