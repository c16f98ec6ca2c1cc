/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain reference `MurmurHash3_x86_32`).
 *
 * Strings are hashed as their UTF-8 bytes. For ASCII input that is byte-for-byte what Unleash's
 * clients hash (`murmurhash3js` reads `charCodeAt(i) & 0xff`), which is all bucketing ever feeds
 * it: identifiers are validated to ASCII before they get here.
 *
 * @module
 */

const c1 = 0xcc9e2d51;
const c2 = 0x1b873593;
const encoder = new TextEncoder();

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/**
 * The 32-bit MurmurHash3 (x86) of `input` with `seed`, as an unsigned integer.
 *
 * @example
 * ```ts
 * murmur3x86_32("Hello, world!", 0x9747b28c); // 0x24884cba
 * ```
 */
export function murmur3x86_32(input: string | Uint8Array, seed = 0): number {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const length = bytes.length;
  const blocks = length - (length & 3);
  let h1 = seed >>> 0;

  for (let i = 0; i < blocks; i += 4) {
    let k1 = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k1 = Math.imul(k1, c1);
    k1 = rotl32(k1, 15);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }

  // The tail of 1-3 bytes (the reference implementation's fall-through switch, unrolled).
  const tail = length & 3;
  if (tail > 0) {
    let k1 = 0;
    if (tail === 3) k1 ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k1 ^= bytes[blocks + 1]! << 8;
    k1 ^= bytes[blocks]!;
    k1 = Math.imul(k1, c1);
    k1 = rotl32(k1, 15);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
  }

  // Finalisation mix: force every input bit to avalanche.
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}
