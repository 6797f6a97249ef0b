/**
 * Where the CLI's output goes. Normally: lines for people on stdout. With `--json` (any command): stdout carries one
 * JSON document, the command's result (`emit`) or its error (`emitError`); the lines for people, progress included,
 * go to stderr, so `cosmos-runbook status --json | jq` and a script's `JSON.parse(stdout)` always work.
 */
let json = false;

export function setJsonOutput(on: boolean): void {
  json = on;
}

export function jsonOutput(): boolean {
  return json;
}

/** The command's result, in JSON mode (a no-op otherwise: the command printed its lines). */
export function emit(value: unknown): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An error as JSON on stdout: `{ "error": { "message", "hint"?, "problems"? } }`. */
export function emitError(error: { message: string; hint?: string; problems?: string[] }): void {
  process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
}
