/** The history JSON helper writes exactly what the recorded histories hold (what replay reads). */
import fs from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import type { Type } from 'protobufjs';
import { fromJson } from 'protobufjs/ext/protojson';
import { historyToJSON } from '../support/history-json';

const historyType = (proto as unknown as { lookupType(name: string): Type }).lookupType(
  'temporal.api.history.v1.History'
);

test.each(['happy-path.json', 'rollback-restore.json'])('%s survives a round trip byte for byte', (file) => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'histories', file), 'utf8');
  const history = fromJson(historyType, JSON.parse(text)) as proto.temporal.api.history.v1.IHistory;
  const json = historyToJSON(history);
  expect(json).toContain('"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"');
  expect(json).toBe(text);
});
