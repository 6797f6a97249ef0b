/** Identifiers that must stay the same across restarts of the stack (the emulator's data survives restarts too). */
import { createHash } from 'node:crypto';

function digest(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** A GUID derived from `seed` (same seed, same GUID). */
export function stableGuid(seed: string): string {
  const hex = digest(seed).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A Cosmos-style resource id (base64 of a few bytes) derived from `seed`, for resources the emulator no longer knows. */
export function stableRid(seed: string, bytes = 4): string {
  return digest(seed).subarray(0, bytes).toString('base64');
}

/** "West US" → "westus": ARM ids and URLs use the compact, lower-case region name. */
export function regionCompact(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

/** A timestamp as the restorable event feeds show it: second precision, `Z` (the az CLI parses exactly this). */
export function eventTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
