/**
 * Every payload of a workflow history, decoded. Histories carry activity inputs and results, signals, markers and the
 * workflow result as base64 payloads: a scan of the raw JSON for a document's content would pass even if the content
 * leaked. Scan `decodedHistory(...)` instead.
 */

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromBase64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

function isPayload(value: unknown): value is JsonPayload {
  if (!value || typeof value !== 'object') return false;
  const v = value as JsonPayload;
  return typeof v.metadata === 'object' && v.metadata !== null && typeof v.metadata.encoding === 'string';
}

/** Decodes every payload's data (and its encoding) found anywhere in the history; nested payloads included. */
export function decodedPayloads(history: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    if (isPayload(value)) {
      const data = typeof value.data === 'string' ? fromBase64(value.data) : '';
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
