/**
 * Runs Microsoft's own @azure/cosmos functional tests, unchanged, against the local emulator (local/README.md, "SDK
 * functional tests"). Microsoft's code is not in this repository: fetch github:Azure/azure-cosmos-js, extract its
 * `test/` folder somewhere outside it, and pass that folder's parent:
 *
 *   npx tsx scripts/ms-sdk-tests/run.ts /work/mstests [spec path filters...]
 *
 * The specs import the SDK from `../../dist-esm`; they are mapped to this repository's @azure/cosmos 4.9. The
 * emulator runs in this process on a free port; jest runs in a child (its own core), with a mocha shim.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalCosmos } from '../../local/cosmos';
import { ensureCertificate } from '../../local/tls';

const DEFAULT_SPECS = ['test/functional/', 'test/integration/'];

async function main(): Promise<void> {
  const [msDir, ...filters] = process.argv.slice(2);
  if (!msDir || !fs.existsSync(path.join(msDir, 'test', 'common', '_testConfig.ts'))) {
    throw new Error('usage: run.ts <folder holding azure-cosmos-js test/> [spec path filters...]');
  }
  const root = path.resolve(msDir);
  const repo = path.resolve(__dirname, '..', '..');
  const cosmosDir = path.dirname(require.resolve('@azure/cosmos'));
  const certificate = ensureCertificate(path.join(os.tmpdir(), 'cosmos-runbook-test-tls'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-sdk-tests-'));
  const cosmos = await startLocalCosmos({ port: 0, certificate, dataDir });
  const config = {
    rootDir: root,
    roots: [path.join(root, 'test')],
    testMatch: (filters.length > 0 ? filters : DEFAULT_SPECS).map(
      (f) => `<rootDir>/${f.replace(/\/$/, '/**')}*.spec.ts`
    ),
    testEnvironment: 'node',
    testTimeout: 100_000,
    setupFilesAfterEnv: [path.join(__dirname, 'mocha-shim.js')],
    moduleDirectories: ['node_modules', path.join(repo, 'node_modules')],
    moduleNameMapper: {
      '^(?:\\.\\./)+dist-esm$': require.resolve('@azure/cosmos'),
      '^(?:\\.\\./)+dist-esm/(.*)$': `${cosmosDir}/$1`,
    },
    transform: {
      '^.+\\.ts$': [
        require.resolve('ts-jest'),
        {
          isolatedModules: true,
          diagnostics: false,
          tsconfig: { target: 'es2019', module: 'commonjs', esModuleInterop: true, allowJs: true },
        },
      ],
    },
  };
  const configFile = path.join(dataDir, 'jest.config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const endpoint = cosmos.endpoint.replace(/\/$/, '');
  // Not spawnSync: the emulator answers from this process's event loop.
  const child = spawn(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--config',
      configFile,
      '--runInBand',
      '--forceExit',
      '--json',
      '--outputFile',
      path.join(root, 'results.json'),
    ],
    {
      stdio: 'inherit',
      env: { ...process.env, ACCOUNT_HOST: endpoint, ACCOUNT_KEY: cosmos.key, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
    }
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  await cosmos.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exitCode = code ?? 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
