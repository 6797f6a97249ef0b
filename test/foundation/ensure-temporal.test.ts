/**
 * scripts/ensure-temporal.ts decides well where the CLI comes from. The real build takes minutes and every other test
 * runs on the real binary, so here `go` is a small script that behaves like the toolchain: it reports its version,
 * "builds" by writing $GOBIN/temporal, and answers `go version -m` with the module the binary says it came from.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const run = promisify(execFile);

let home: string;
let bin: string;

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ensure-temporal-'));
  bin = path.join(home, 'bin');
  fs.mkdirSync(bin);
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

/** A `go` that "builds" a binary recording the module version it was asked for. */
function fakeGo(goVersion: string): void {
  fs.writeFileSync(
    path.join(bin, 'go'),
    `#!/bin/sh
case "$1" in
  env) echo "${goVersion}" ;;
  version) sed -n 's/^# built from //p' "$3" | awk '{print "\\tmod\\t" $1 "\\t" $2 "\\th1:x"}' ;;
  install)
    echo "github.com/temporalio/cli/temporalcli" >&2
    target="$3"; mod="\${target%%/cmd/temporal@*}"; ver="\${target##*@}"
    printf '#!/bin/sh\\n# built from %s %s\\necho fake temporal\\n' "$mod" "$ver" > "$GOBIN/temporal"
    chmod +x "$GOBIN/temporal" ;;
esac
`,
    { mode: 0o755 }
  );
}

async function ensure(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSX, 'scripts/ensure-temporal.ts'], {
      cwd: ROOT,
      env: { HOME: home, PATH: `${bin}:/usr/bin:/bin` },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const cached = () => path.join(home, '.cache', 'cosmos-runbook', 'bin', 'temporal');

test('without a CLI it builds v1.5.1 into the cache, says so, prints the path; the next run reuses it', async () => {
  fakeGo('go1.26.8');
  const first = await ensure();
  expect(first.code).toBe(0);
  expect(first.stdout).toBe(`${cached()}\n`);
  expect(first.stderr).toContain(
    `building it with GOBIN=${path.dirname(cached())} go install github.com/temporalio/cli/cmd/temporal@v1.5.1`
  );
  expect(fs.readFileSync(cached(), 'utf8')).toContain('github.com/temporalio/cli v1.5.1');

  const second = await ensure();
  expect(second).toEqual({ code: 0, stdout: `${cached()}\n`, stderr: '' });
});

test('a cached binary of another version is rebuilt', async () => {
  fakeGo('go1.26.8');
  fs.mkdirSync(path.dirname(cached()), { recursive: true });
  fs.writeFileSync(cached(), '#!/bin/sh\n# built from github.com/temporalio/cli v1.4.0\n', { mode: 0o755 });
  const result = await ensure();
  expect(result.code).toBe(0);
  expect(result.stderr).toContain('go install');
  expect(fs.readFileSync(cached(), 'utf8')).toContain('v1.5.1');
});

test('a temporal on PATH is used as it is', async () => {
  fs.writeFileSync(path.join(bin, 'temporal'), '#!/bin/sh\n', { mode: 0o755 });
  expect(await ensure()).toEqual({ code: 0, stdout: `${path.join(bin, 'temporal')}\n`, stderr: '' });
});

test('no Go, or a Go too old: one line saying how to get the CLI', async () => {
  const noGo = await ensure();
  expect(noGo.code).toBe(1);
  expect(noGo.stderr.trim().split('\n')).toHaveLength(1);
  expect(noGo.stderr).toContain('Go is not on PATH to build it: install Go >= 1.25');

  fakeGo('go1.19.8');
  const oldGo = await ensure();
  expect(oldGo.code).toBe(1);
  expect(oldGo.stderr).toMatch(/\(go1\.19\) is too old to build it: install Go >= 1\.25/);
  expect(fs.existsSync(cached())).toBe(false);
});
