/**
 * User code (`up()`, `down()`, `verify()`) may quote a document's values in the message it throws or returns
 * (`throw new Error(\`cannot split ${doc.name}\`)`). Those messages are recorded with the document's id and partition
 * key in counters, failures, workflow history and logs, where document values must never go: every value of the
 * document, and every word of its text values, is replaced by `‹value›` before the message is kept. The id and the
 * partition key values stay (they are recorded beside the message anyway). Short values (under 3 characters: `"a"`,
 * `7`) are left: redacting them would garble every message, and they say little.
 */
import { SYSTEM_FIELDS } from './preimages';

const REDACTED = '‹value›';
const MIN_LENGTH = 3;

function leaves(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    into.add(value);
    for (const word of value.split(/[\s,;:()[\]{}"'<>]+/)) into.add(word);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    into.add(String(value));
  } else if (Array.isArray(value)) {
    for (const item of value) leaves(item, into);
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) leaves(item, into);
  }
}

/** `message` with every value of `doc` (system fields aside) replaced, except the values in `keep`. */
export function withoutDocumentValues(message: string, doc: Record<string, unknown>, keep: unknown[] = []): string {
  const values = new Set<string>();
  for (const [key, value] of Object.entries(doc)) if (!SYSTEM_FIELDS.has(key)) leaves(value, values);
  const kept = new Set<string>();
  for (const value of keep) leaves(value, kept);
  const secret = [...values]
    .filter((v) => v.length >= MIN_LENGTH && !kept.has(v) && !REDACTED.includes(v))
    .sort((a, b) => b.length - a.length);
  let text = message;
  for (const value of secret) text = text.split(value).join(REDACTED);
  return text;
}
