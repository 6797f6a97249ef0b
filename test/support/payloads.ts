/**
 * Every payload of a workflow history, decoded. Histories carry activity inputs and results, signals, markers and the
 * workflow result as base64 payloads: a scan of the raw JSON for a document's content would pass even if the content
 * leaked. Scan `decodedHistory(...)` instead.
 */

interface JsonPayload {
  metadata?: Record<string, string | Uint8Array>;
  data?: string | Uint8Array;
}

const fromBase64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/**
 * A payload as history JSON has it (base64 strings), or as a fetched history has it (bytes): both are read, so a
 * history passed without historyToJSON is scanned too instead of silently yielding nothing.
 */
function isPayload(value: unknown): value is JsonPayload {
  if (!value || typeof value !== 'object') return false;
  const v = value as { metadata?: Record<string, unknown> };
  const encoding = v.metadata?.encoding;
  return typeof v.metadata === 'object' && (typeof encoding === 'string' || encoding instanceof Uint8Array);
}

function dataOf(data: unknown): string {
  if (typeof data === 'string') return fromBase64(data);
  if (data instanceof Uint8Array) return Buffer.from(data).toString('utf8');
  return '';
}

/** Decodes every payload's data (and its encoding) found anywhere in the history; nested payloads included. */
export function decodedPayloads(history: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    if (isPayload(value)) {
      const data = dataOf(value.data);
      found.push(data);
      // A payload can hold payloads (e.g. an encoded failure's details): decode those too.
      if (data.startsWith('{') || data.startsWith('[')) {
        try {
          walk(JSON.parse(data));
        } catch {
          // plain text
        }
      }
      return;
    }
    Object.values(value).forEach(walk);
  };
  walk(typeof history === 'string' ? JSON.parse(history) : history);
  return found;
}

/** The history as text a person would read: its JSON plus every payload decoded. */
export function decodedHistory(history: unknown): string {
  const json = typeof history === 'string' ? history : JSON.stringify(history);
  return `${json}\n${decodedPayloads(history).join('\n')}`;
}

/**
 * Every value of the seeded documents a history must not hold: each text value and each of its words (3 characters
 * or more), each number, at any depth; the fields in `kept` (the id and the partition key, which the docs say are
 * recorded) and the system fields aside.
 */
export function documentValues(docs: Record<string, unknown>[], kept: string[] = ['id']): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      found.add(value);
      for (const word of value.split(/[\s,;:()[\]{}"'<>]+/)) found.add(word);
    } else if (typeof value === 'number') found.add(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const doc of docs) {
    for (const [key, value] of Object.entries(doc)) if (!kept.includes(key) && !key.startsWith('_')) walk(value);
  }
  return [...found].filter((v) => v.length >= 3);
}

/** The values of `docs` (documentValues) that `history` holds, decoded: [] when none leaked. */
export function leakedValues(history: unknown, docs: Record<string, unknown>[], kept?: string[]): string[] {
  const text = decodedHistory(history);
  return documentValues(docs, kept).filter((v) => text.includes(v));
}
