import { assertEquals, assertThrows } from "../../../../tests/support/assert.ts";
import {
  decodeEnvelope,
  encodeEnvelope,
  EnvelopeFormatError,
  envelopeHeader,
} from "./envelope_format.ts";

const parts = {
  encryptedKey: Uint8Array.from({ length: 300 }, (_, i) => i % 256),
  iv: new Uint8Array(12).fill(7),
  sealed: new Uint8Array(40).fill(9),
};

Deno.test("encodeEnvelope() lays out version, suite, key length, key, IV and sealed bytes", () => {
  const bytes = encodeEnvelope(parts);
  assertEquals([...bytes.subarray(0, 4)], [1, 1, 0x01, 0x2c]); // 300 = 0x012c, big-endian
  assertEquals(bytes.length, 4 + 300 + 12 + 40);
  const decoded = decodeEnvelope(bytes);
  assertEquals([decoded.version, decoded.suite], [1, 1]);
  assertEquals(decoded.encryptedKey, parts.encryptedKey);
  assertEquals(decoded.iv, parts.iv);
  assertEquals(decoded.sealed, parts.sealed);
  assertEquals(decoded.header, envelopeHeader(parts.encryptedKey));
});

Deno.test("decodeEnvelope() refuses unknown versions and suites and truncated bytes", () => {
  const bytes = encodeEnvelope(parts);
  const v2 = bytes.slice();
  v2[0] = 2;
  assertThrows(() => decodeEnvelope(v2), EnvelopeFormatError, "version 2");
  const suite = bytes.slice();
  suite[1] = 9;
  assertThrows(() => decodeEnvelope(suite), EnvelopeFormatError, "suite 9");
  assertThrows(() => decodeEnvelope(bytes.subarray(0, 300)), EnvelopeFormatError, "truncated");
  assertThrows(() => decodeEnvelope(new Uint8Array(2)), EnvelopeFormatError, "truncated");
  assertThrows(
    () => encodeEnvelope({ ...parts, iv: new Uint8Array(8) }),
    EnvelopeFormatError,
    "IV",
  );
});
