/**
 * The contract between the local stack's launcher (which writes `stack.env`) and the configuration (which reads it):
 * the file names the process that owns the stack, so a file left behind by a stack that has stopped or crashed is
 * recognised as stale and never configures anything (docs/architecture.md §9).
 */
import fs from 'node:fs';

/** The pid of the process that runs the stack (the background daemon, or `npm start`). */
export const STACK_PID_VAR = 'LOCAL_STACK_PID';
/** That process's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), so a recycled pid is not taken for it. */
export const STACK_PID_START_VAR = 'LOCAL_STACK_PID_START';

/** The start time of a process as the kernel records it, or undefined where there is no /proc (macOS). */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields after it are space separated.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22 (starttime) is the 20th after the command name.
    return after[19];
  } catch {
    return undefined;
  }
}

/** The lines that name the owner: this process, unless told otherwise. */
export function stackOwnerVars(pid = process.pid): Record<string, string> {
  const start = processStartTicks(pid);
  return { [STACK_PID_VAR]: String(pid), ...(start ? { [STACK_PID_START_VAR]: start } : {}) };
}

export type StackOwner = { running: true; pid: number } | { running: false; why: string };

/** Whether the process a stack.env names is still the one that wrote it. */
export function stackOwner(vars: Record<string, string | undefined>): StackOwner {
  const text = vars[STACK_PID_VAR];
  const pid = Number(text);
  if (!text || !Number.isInteger(pid) || pid <= 0) {
    return { running: false, why: `it names no ${STACK_PID_VAR} (written by an older launcher?)` };
  }
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: another user's process, so not the stack this user started.
    return { running: false, why: `its stack (pid ${pid}) is not running` };
  }
  const recorded = vars[STACK_PID_START_VAR];
  const now = processStartTicks(pid);
  if (recorded && now && recorded !== now) {
    return { running: false, why: `its stack (pid ${pid}) is not running (the pid now belongs to another process)` };
  }
  return { running: true, pid };
}
