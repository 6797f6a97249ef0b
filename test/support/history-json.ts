/**
 * A workflow history as the JSON Temporal's web UI and `temporal workflow show --output json` write, and
 * Worker.runReplayHistory reads: proto3 JSON of temporal.api.history.v1.History. Built from public entry points
 * (@temporalio/proto's root, protobufjs's protojson) rather than the SDK's internal lib/proto-utils.
 */
import proto from '@temporalio/proto';
import type { Type } from 'protobufjs';
import { toJson } from 'protobufjs/ext/protojson';

// The root is a reflection root at run time; its generated types just do not declare lookupType.
const historyType = (proto as unknown as { lookupType(name: string): Type }).lookupType(
  'temporal.api.history.v1.History'
);

export function historyToJSON(history: proto.temporal.api.history.v1.IHistory): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(toJson(historyType, message), null, 2);
}
