/**
 * Effective partition keys (EPK) exactly as @azure/cosmos 4.9 computes them, so that the emulator places every
 * document in the partition key range the SDK routes it to.
 *
 * Ported from node_modules/@azure/cosmos/dist/commonjs/utils/hashing/ (hash.js picks the version: `kind` Hash with
 * `version: 2` -> v2.js, otherwise v1.js; murmurHash.js, encoding/number.js, encoding/string.js, encoding/prefix.js).
 * The SDK does not export them (its package.json `exports` has only "."), so a deep import would break on any
 * reorganisation; test/local/cosmos-partitions.test.ts checks these against the SDK's own functions.
 *
 * Hash spaces: v2 is 128 bits with the top two bits cleared (32 hex digits, "00..." to "3F..."); v1 is the binary
 * encoding of a 32-bit murmur3 hash (a number) followed by the encoded value. Azure writes the whole space as
 * ["", "FF").
 */

export type PartitionKeyVersion = 1 | 2;

export const MIN_EPK = '';
export const MAX_EPK = 'FF';

const PREFIX = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Number: 0x05,
  String: 0x08,
  Infinity: 0xff,
} as const;

const MASK64 = (1n << 64n) - 1n;

/** The partition key definition version the SDK hashes with (hash.js: V2 only when `version === 2`). */
export function versionOf(definition: Record<string, unknown> | null | undefined): PartitionKeyVersion {
  const pk = definition?.partitionKey as { version?: unknown } | undefined;
  return pk?.version === 2 ? 2 : 1;
}

/** The EPK of a partition key value given as the SDK's internal array form (`["a"]`, `[5]`, `[{}]` for none). */
export function effectivePartitionKey(partitionKey: unknown[], version: PartitionKeyVersion): string {
  return version === 2 ? hashV2(partitionKey) : hashV1(partitionKey);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function doubleBits(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0);
}

/** encoding/number.js doubleToByteArrayBigInt: the double's bits, little-endian. */
function doubleBytesLE(value: number): number[] {
  const bits = doubleBits(value);
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((bits >> (i * 8n)) & 0xffn));
  return out;
}

/** encoding/number.js writeNumberForBinaryEncodingBigInt: an order-preserving variable-length encoding. */
export function encodeNumber(value: number): number[] {
  const raw = doubleBits(value);
  const mask = 0x8000000000000000n;
  let payload = mask > raw ? raw ^ mask : (~raw + 1n) & MASK64;
  const out: number[] = [PREFIX.Number, Number((payload >> 56n) & 0xffn)];
  payload = (payload << 8n) & MASK64;
  let byteToWrite = 0n;
  let first = true;
  do {
    if (!first) {
      if (byteToWrite !== 0n) out.push(Number(byteToWrite));
    } else {
      first = false;
    }
    byteToWrite = ((payload >> 56n) & 0xffn) | 1n;
    payload = (payload << 7n) & MASK64;
  } while (payload !== 0n);
  const last = byteToWrite & 0xfen;
  if (last !== 0n) out.push(Number(last));
  return out;
}

/** encoding/string.js writeStringForBinaryEncoding. */
function encodeString(value: string): number[] {
  const bytes = new TextEncoder().encode(value);
  const short = value.length <= 100;
  const out: number[] = [PREFIX.String];
  const n = short ? bytes.length : 101;
  for (let i = 0; i < n; i++) {
    let b = bytes[i]!;
    if (b < 255) b++;
    out.push(b);
  }
  if (short) out.push(PREFIX.Undefined);
  return out;
}

function constantPrefix(key: unknown): number {
  if (key === true) return PREFIX.True;
  if (key === false) return PREFIX.False;
  if (key === null) return PREFIX.Null;
  return PREFIX.Undefined;
}

function prefixed(key: unknown, stringEnd: number, truncate: boolean): number[] {
  if (typeof key === 'string') {
    const s = truncate ? key.substring(0, 100) : key;
    return [PREFIX.String, ...new TextEncoder().encode(s), stringEnd];
  }
  if (typeof key === 'number') return [PREFIX.Number, ...doubleBytesLE(key)];
  return [constantPrefix(key)];
}

/** v1.js hashV1PartitionKey. */
function hashV1(partitionKey: unknown[]): string {
  const key = partitionKey[0];
  const hash = murmur3x86Hash32(Uint8Array.from(prefixed(key, PREFIX.Undefined, true)));
  let value: number[];
  if (typeof key === 'string') value = encodeString(key.substring(0, 100));
  else if (typeof key === 'number') value = encodeNumber(key);
  else value = [constantPrefix(key)];
  return hex(Uint8Array.from([...encodeNumber(hash), ...value]));
}

/** v2.js hashV2PartitionKey: murmur3 x64 128 of all components, bytes reversed, top two bits cleared. */
function hashV2(partitionKey: unknown[]): string {
  const bytes = partitionKey.flatMap((key) => prefixed(key, PREFIX.Infinity, false));
  const digest = murmur3x64Hash128(Uint8Array.from(bytes)).reverse();
  digest[0]! &= 63;
  return hex(digest);
}

/** murmurHash.js x86.hash32, seed 0. */
export function murmur3x86Hash32(bytes: Uint8Array): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h1 = 0;
  const remainder = bytes.length % 4;
  const blocks = bytes.length - remainder;
  for (let i = 0; i < blocks; i += 4) {
    let k1 = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  let k1 = 0;
  switch (remainder) {
    case 3:
      k1 ^= bytes[blocks + 2]! << 16;
    // falls through
    case 2:
      k1 ^= bytes[blocks + 1]! << 8;
    // falls through
    case 1:
      k1 ^= bytes[blocks]!;
      k1 = Math.imul(k1, c1);
      k1 = (k1 << 15) | (k1 >>> 17);
      k1 = Math.imul(k1, c2);
      h1 ^= k1;
  }
  h1 ^= bytes.length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

const rotl64 = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK64;
const fmix64 = (k: bigint) => {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
};

function readLE64(bytes: Uint8Array, at: number, length: number): bigint {
  let v = 0n;
  for (let i = length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
  return v;
}

/** murmurHash.js x64.hash128, seed 0: the 16 digest bytes (h1 then h2, each little-endian). */
export function murmur3x64Hash128(bytes: Uint8Array): Uint8Array {
  const c1 = 0x87c37b91114253d5n;
  const c2 = 0x4cf5ad432745937fn;
  let h1 = 0n;
  let h2 = 0n;
  const remainder = bytes.length % 16;
  const blocks = bytes.length - remainder;
  for (let i = 0; i < blocks; i += 16) {
    let k1 = readLE64(bytes, i, 8);
    let k2 = readLE64(bytes, i + 8, 8);
    k1 = (k1 * c1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * c2) & MASK64;
    h1 ^= k1;
    h1 = rotl64(h1, 27n);
    h1 = (h1 + h2) & MASK64;
    h1 = (h1 * 5n + 0x52dce729n) & MASK64;
    k2 = (k2 * c2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * c1) & MASK64;
    h2 ^= k2;
    h2 = rotl64(h2, 31n);
    h2 = (h2 + h1) & MASK64;
    h2 = (h2 * 5n + 0x38495ab5n) & MASK64;
  }
  if (remainder > 8) {
    let k2 = readLE64(bytes, blocks + 8, remainder - 8);
    k2 = (k2 * c2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * c1) & MASK64;
    h2 ^= k2;
  }
  if (remainder > 0) {
    let k1 = readLE64(bytes, blocks, Math.min(remainder, 8));
    k1 = (k1 * c1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * c2) & MASK64;
    h1 ^= k1;
  }
  const len = BigInt(bytes.length);
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i] = Number((h1 >> BigInt(8 * i)) & 0xffn);
    out[8 + i] = Number((h2 >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}

/**
 * The hash space of a version as numbers: v2 [0, 2^126) (the 128-bit hash with the top two bits cleared), v1
 * [0, 2^32) (the murmur3 32-bit hash). Range boundaries are points of this space, written as EPK strings.
 */
export function hashSpaceEnd(version: PartitionKeyVersion): bigint {
  return version === 2 ? 1n << 126n : 1n << 32n;
}

/** A boundary of the hash space as Azure writes it: 0 -> "", the end -> "FF", else the EPK of that hash point. */
export function boundaryEpk(point: bigint, version: PartitionKeyVersion): string {
  if (point <= 0n) return MIN_EPK;
  if (point >= hashSpaceEnd(version)) return MAX_EPK;
  if (version === 2) return point.toString(16).toUpperCase().padStart(32, '0');
  return hex(Uint8Array.from(encodeNumber(Number(point))));
}

/** Whether an EPK lies in [min, max) (both as Azure writes them; "FF" is the end of the space). */
export function epkInRange(epk: string, min: string, max: string): boolean {
  return epk >= min && (max === MAX_EPK || epk < max);
}
