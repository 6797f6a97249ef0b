/**
 * Where the Temporal CLI comes from. The project needs the real `temporal` binary (the dev server for the local stack
 * and for every test, and the CLI users drive workflows with), and nothing may be downloaded at run time. So it is
 * taken, in this order, from TEMPORAL_CLI_PATH, from PATH, or from a per-user cache outside the clone (so a fresh CI
 * clone on the same machine finds it); when it is nowhere, it is built once from the Go module.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** cli v1.5.1's go.mod says `go 1.25.0`. */
const MIN_GO = [1, 25] as const;

/** ~/.cache/cosmos-runbook/bin: the cache folder `go install` writes the binary to. */
export function temporalCacheDir(): string {
  return path.join(os.homedir(), '.cache', 'cosmos-runbook', 'bin');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The module path and version a Go binary was built from, read with `go version -m`. A `go install` build reports
 * `temporal version 0.0.0-DEV`, so its build info is the only trustworthy version. undefined: Go is missing or the
 * file carries no build info.
 */
export function goModuleVersion(binary: string): { module: string; version: string } | undefined {
  const go = onPath('go');
  if (!go) return undefined;
  try {
    const out = execFileSync(go, ['version', '-m', binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => /^\s+mod\s/.test(l));
    const [, module, version] = line?.trim().split(/\s+/) ?? [];
    return module && version ? { module, version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The absolute path of a usable `temporal`, or undefined. Throws when TEMPORAL_CLI_PATH names something unusable,
 * because silently taking another binary than the one asked for would be worse.
 */
export function findTemporalCli(): string | undefined {
  const override = process.env.TEMPORAL_CLI_PATH;
  if (override) {
    const resolved = path.resolve(override);
    if (!isExecutable(resolved)) {
      throw new Error(`TEMPORAL_CLI_PATH=${override} is not an executable file; fix or unset it.`);
    }
    return resolved;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = path.join(temporalCacheDir(), 'temporal');
  if (isExecutable(cached)) {
    const built = goModuleVersion(cached);
    // Without Go we cannot check; a binary we put there ourselves is the best guess then.
    if (!built || (built.module === TEMPORAL_CLI_MODULE && built.version === TEMPORAL_CLI_VERSION)) return cached;
  }
  return undefined;
}

function goVersion(go: string): [number, number] | undefined {
  try {
    const out = execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /go(\d+)\.(\d+)/.exec(out);
    return match ? [Number(match[1]), Number(match[2])] : undefined;
  } catch {
    return undefined;
  }
}

const HOW_TO_GET_IT =
  `install Go >= ${MIN_GO.join('.')} (https://go.dev/dl/) and rerun, or install the Temporal CLI ` +
  `(https://docs.temporal.io/cli#install) and put \`temporal\` on PATH or set TEMPORAL_CLI_PATH`;

/**
 * Returns the CLI's absolute path, building it with `go install` into the cache folder when it is nowhere to be found.
 * Progress goes to stderr (the first build takes several minutes); stdout stays clean for callers.
 */
export async function ensureTemporalCli(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)
): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;

  const go = onPath('go');
  if (!go) throw new Error(`The Temporal CLI is not installed and Go is not on PATH to build it: ${HOW_TO_GET_IT}.`);
  const version = goVersion(go);
  if (!version || version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    throw new Error(
      `The Temporal CLI is not installed and ${go} (${version ? `go${version.join('.')}` : 'unknown version'}) is too old to build it: ${HOW_TO_GET_IT}.`
    );
  }

  const dir = temporalCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const target = `${TEMPORAL_CLI_MODULE}/cmd/temporal@${TEMPORAL_CLI_VERSION}`;
  log(`Temporal CLI not found: building it with GOBIN=${dir} go install ${target}`);
  log('(first time only; this takes about 6 minutes on a 2-core machine)');

  const started = Date.now();
  let packages = 0;
  await new Promise<void>((resolve, reject) => {
    // -v names each package as it is compiled: counted for the progress line, and the tail kept for errors.
    const child = spawn(go, ['install', '-v', target], {
      env: { ...process.env, GOBIN: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        packages++;
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const ticker = setInterval(() => {
      log(
        `  still building: ${Math.round((Date.now() - started) / 1000)} s${packages ? `, ${packages} packages so far` : ''}`
      );
    }, 30_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(new Error(`Could not run ${go}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else {
        reject(
          new Error(
            `go install ${target} failed (${signal ?? `exit ${code}`}); last output:\n${tail.join('\n')}\n` +
              `Alternatively, ${HOW_TO_GET_IT}.`
          )
        );
      }
    });
  });

  const built = path.join(dir, 'temporal');
  if (!isExecutable(built)) throw new Error(`go install reported success but ${built} is missing.`);
  log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${built}`);
  return built;
}
