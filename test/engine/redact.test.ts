/** activities/cosmos/redact.ts: what user code says about a document keeps its id and partition key, no value. */
import { withoutDocumentValues } from '../../activities/cosmos/redact';

const doc = {
  id: 'c-0013',
  tenant: 't1',
  name: 'Ada Lovelace',
  address: { city: 'London', zip: 12345 },
  tags: ['analyst', 'poet'],
  _etag: '"0000-1111"',
  _ts: 1700000000,
};

test('every value and every word of a text value is replaced; id, partition key and system fields stay', () => {
  const message = `cannot split "Ada Lovelace" (Lovelace) of c-0013/t1 in London 12345, tags analyst; etag "0000-1111" ts 1700000000`;
  expect(withoutDocumentValues(message, doc, [doc.id, doc.tenant])).toBe(
    'cannot split "‹value›" (‹value›) of c-0013/t1 in ‹value› ‹value›, tags ‹value›; etag "0000-1111" ts 1700000000'
  );
});

test('a message without values is kept as written', () => {
  expect(withoutDocumentValues('name has no space', doc, [doc.id])).toBe('name has no space');
});
