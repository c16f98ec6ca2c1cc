/**
 * L1 of the two-tier cache (`cache.ts`): the isolate's own entries, least recently used first
 * out, each living `ttlMs`, bounded by a number of entries and by the UTF-8 bytes of their JSON.
 *
 * @module
 */
import { LRUCache } from "lru-cache";

/** Options of an {@link L1Cache}; `cache.ts` validates them and fills in the defaults. */
export interface L1CacheOptions {
  /** Most entries. */
  maxEntries: number;
  /** Most bytes, counted as the UTF-8 length of each value's JSON. */
  maxBytes: number;
  /** How long an entry lives, in ms. */
  ttlMs: number;
  /** The clock in ms entries expire by. */
  now: () => number;
}

interface L1Entry {
  value: unknown;
  bytes: number;
}

/** UTF-8 byte length of `text` without encoding it. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The isolate's bounded, expiring entries; see the module comment. */
export class L1Cache {
  readonly #lru: LRUCache<string, L1Entry>;

  constructor(options: L1CacheOptions) {
    const { now } = options;
    // lru-cache takes a start time of 0 to mean "no TTL", so its clock starts at 1.
    const epoch = now();
    this.#lru = new LRUCache<string, L1Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.bytes,
      ttl: options.ttlMs,
      // Read the clock on every check rather than caching it behind a timer: exact expiry under
      // a fake clock, and no timer per look-up.
      ttlResolution: 0,
      perf: { now: () => now() - epoch + 1 },
    });
  }

  /** The live entry of `key` (marked most recently used), or undefined. */
  get(key: string): { value: unknown } | undefined {
    return this.#lru.get(key);
  }

  /** Keeps `value`, whose JSON is `json`; a value larger than `maxBytes` is not kept. */
  set(key: string, value: unknown, json: string): void {
    // lru-cache keeps nothing larger than maxSize: such a value is served, not kept.
    this.#lru.set(key, { value, bytes: utf8Length(json) });
  }

  /** Drops `key`. */
  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Drops every entry. */
  clear(): void {
    this.#lru.clear();
  }

  /** Live entries and their bytes; expired entries are dropped first so counts are live ones. */
  occupancy(): { entries: number; bytes: number } {
    this.#lru.purgeStale();
    return { entries: this.#lru.size, bytes: this.#lru.calculatedSize };
  }
}
