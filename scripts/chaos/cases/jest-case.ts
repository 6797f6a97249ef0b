/**
 * A chaos case that is a test file of `npm test`: the proof lives there once (long waits, version skew), and chaos
 * runs the file with jest (its own Temporal dev server and local stack, as in `npm test`) and reports the figures the
 * test recorded (test/support/figures.ts) and how many of its tests passed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaosCase, Figure } from '../types';
import { figure } from '../support/figures';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

interface JestJson {
  numTotalTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

export function jestCase(name: string, testFile: string): ChaosCase {
  return {
    name,
    async run({ log }) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cosmos-runbook-chaos-${name}-`));
      const figuresFile = path.join(dir, 'figures.jsonl');
      const resultsFile = path.join(dir, 'results.json');
      try {
        log(`  npx jest --runInBand ${testFile}`);
        await new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [require.resolve('jest/bin/jest'), '--runInBand', '--json', '--outputFile', resultsFile, testFile],
            {
              cwd: PROJECT_ROOT,
              env: { ...process.env, CHAOS_FIGURES_FILE: figuresFile },
              stdio: ['ignore', 'ignore', 'pipe'],
            }
          );
          let stderr = '';
          child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
          child.once('error', reject);
          child.once('exit', () =>
            fs.existsSync(resultsFile) ? resolve() : reject(new Error(`jest wrote no results:\n${stderr}`))
          );
        });
        const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as JestJson;
        for (const test of results.testResults.flatMap((r) => r.assertionResults)) {
          if (test.status !== 'passed')
            log(`  ${test.status}: ${test.title}\n${test.failureMessages.join('\n').slice(0, 2000)}`);
        }
        const recorded = fs.existsSync(figuresFile)
          ? fs
              .readFileSync(figuresFile, 'utf8')
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Figure)
          : [];
        return [
          figure(
            `${name}: tests of ${testFile} passed`,
            `${results.numPassedTests}/${results.numTotalTests}`,
            'all',
            results.numTotalTests > 0 && results.numPassedTests === results.numTotalTests
          ),
          ...recorded,
        ];
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
