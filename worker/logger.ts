/**
 * The worker's one logger: pino, one JSON object per line on stdout at INFO unless LOG_LEVEL says otherwise, or
 * human-readable lines for a terminal with LOG_FORMAT=pretty (pino-pretty, in this thread: no worker thread to lose
 * lines in when the process exits).
 *
 * It is also the Temporal SDK's runtime logger (`Runtime.install({ logger })`): the SDK's Logger interface
 * (node_modules/@temporalio/common/lib/logger.d.ts: log(level, message, meta) and one method per level) is adapted
 * below, so the workflow's own `log.info('runbook phase', …)` (workflows/run/run.ts), which reaches the runtime
 * logger through the SDK's logger sink (node_modules/@temporalio/worker/lib/workflow-log-interceptor.js), and the
 * activities' `Context.log`, come out here with their workflow and activity metadata.
 */
import pino, { type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { z } from 'zod';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type RunbookLogLevel = (typeof LOG_LEVELS)[number];

export interface LogSettings {
  level: RunbookLogLevel;
  format: 'json' | 'pretty';
}

const logSchema = z.object({
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  LOG_FORMAT: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['json', 'pretty'], { error: 'must be json or pretty' }))
    .default('json'),
});

/**
 * LOG_LEVEL (default info) and LOG_FORMAT (default json). Blank counts as unset.
 * @returns the settings, and one line per problem (the defaults are used for a bad value)
 */
export function logSettings(env: NodeJS.ProcessEnv = process.env): { settings: LogSettings; problems: string[] } {
  const given = (key: string) => (env[key]?.trim() ? env[key] : undefined);
  const parsed = logSchema.safeParse({ LOG_LEVEL: given('LOG_LEVEL'), LOG_FORMAT: given('LOG_FORMAT') });
  if (parsed.success) {
    return { settings: { level: parsed.data.LOG_LEVEL, format: parsed.data.LOG_FORMAT }, problems: [] };
  }
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const bad = new Set(parsed.error.issues.map((i) => i.path[0]));
  return {
    settings: {
      level: bad.has('LOG_LEVEL') ? 'info' : (given('LOG_LEVEL')!.trim().toLowerCase() as RunbookLogLevel),
      format: bad.has('LOG_FORMAT') ? 'json' : (given('LOG_FORMAT')?.trim().toLowerCase() as 'json' | 'pretty'),
    },
    problems,
  };
}

/** A pino logger with the settings; `destination` (default stdout) is for tests. */
export function createLogger(settings: LogSettings, destination?: NodeJS.WritableStream): Pino {
  const options = { level: settings.level, base: { service: 'cosmos-runbook-worker' } };
  if (settings.format === 'pretty') {
    return pino(options, pretty({ sync: true, destination: destination ?? process.stdout, singleLine: true }));
  }
  // `"level":"info"` rather than pino's number (30): what log collectors and people filter on; ISO time likewise.
  const json = {
    ...options,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // process.stdout rather than pino's own sonic-boom on fd 1: a pipe's stdout is synchronous on Linux (Node's
  // process I/O docs), so lines keep their order even when the worker exits right after writing them.
  return pino(json, destination ?? process.stdout);
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK's Logger on top of pino. The SDK's metadata (sdkComponent, workflowId, runId, activityType, …) becomes
 * fields of the line; its timestamp is a symbol key (LogTimestamp), which pino leaves out: pino stamps its own.
 */
export function temporalLogger(logger: Pino): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = PINO_LEVEL[level] ?? 'info';
    if (meta) logger[method](meta, message);
    else logger[method](message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
