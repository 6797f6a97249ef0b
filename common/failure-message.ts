/**
 * What went wrong, in one line an operator can act on: the innermost message of a wrapped failure (an activity's or a
 * child workflow's cause, not "Activity task failed"), the resource provider's `{ code, message }` body when ARM sent
 * one as the raw text of a RestError's message (@azure/core-rest-pipeline; only that body's first line). The one helper
 * for this, used by the workflows, the activities and the CLI. Pure: workflow code imports it.
 */
export function failureMessage(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown } | undefined;
  while (e?.cause && typeof (e.cause as { message?: unknown }).message === 'string') {
    e = e.cause;
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  try {
    const body = JSON.parse(message) as { code?: unknown; message?: unknown } | null;
    if (body && typeof body.message === 'string') {
      return firstLine(typeof body.code === 'string' ? `${body.code}: ${body.message}` : body.message);
    }
  } catch {
    // not JSON: the message as it is
  }
  return message;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
