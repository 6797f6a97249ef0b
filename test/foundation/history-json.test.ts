/** The history JSON helper writes what the recorded histories hold (what replay reads), value for value. */
import fs from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import type { Type } from 'protobufjs';
import { fromJson } from 'protobufjs/ext/protojson';
import { historyToJSON } from '../support/history-json';

const historyType = (proto as unknown as { lookupType(name: string): Type }).lookupType(
  'temporal.api.history.v1.History'
);

test.each(['happy-path-phases.json', 'rollback-restore-proved.json'])('%s survives a round trip', (file) => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'histories', file), 'utf8');
  const history = fromJson(historyType, JSON.parse(text)) as proto.temporal.api.history.v1.IHistory;
  const json = historyToJSON(history);
  expect(json).toContain('"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"');
  // The files may have been reformatted since they were recorded; the values are what replay reads.
  expect(JSON.parse(json)).toEqual(JSON.parse(text));
});
