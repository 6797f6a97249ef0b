#!/usr/bin/env node
/**
 * `node scripts/bootstrap.js`: the first step of `npm start` and `npm test`, so both work on a fresh clone.
 * Plain JavaScript with no dependencies, because it runs before node_modules exists (tsx itself lives there).
 *
 * - Node.js older than 20: stops with one line saying so.
 * - node_modules missing: `npm ci` (the exact versions of package-lock.json), with npm's progress shown.
 * - node_modules older than package-lock.json (a package in the lock is missing from node_modules or has another
 *   version, compared through npm's own record node_modules/.package-lock.json): `npm install`, which brings
 *   node_modules in line with the lock without deleting it.
 * - Otherwise: nothing, in a few milliseconds.
 * Set COSMOS_RUNBOOK_SKIP_BOOTSTRAP=1 to skip it (you manage node_modules yourself).
 * The Temporal CLI is the next step's business (scripts/ensure-temporal.ts, or the stack launcher).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const say = (line) => process.stderr.write(`bootstrap: ${line}\n`);

function fail(line) {
  say(line);
  process.exit(1);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why node_modules does not match package-lock.json, or undefined when it does. */
function staleness() {
  const modules = path.join(root, 'node_modules');
  if (!fs.existsSync(modules)) return 'missing';
  const lock = readJson(path.join(root, 'package-lock.json'));
  if (!lock || !lock.packages) return undefined; // no lock to compare with: trust what is there
  const installed = readJson(path.join(modules, '.package-lock.json'));
  if (!installed || !installed.packages) return 'has no record of what npm installed (node_modules/.package-lock.json)';
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || entry.link) continue;
    const have = installed.packages[where];
    // Optional packages for other platforms (esbuild's, swc's) are legitimately absent.
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return `lacks ${where.replace(/^node_modules\//, '')}@${entry.version}`;
    }
    if (entry.version && have.version !== entry.version) {
      return `has ${where.replace(/^node_modules\//, '')}@${have.version}, package-lock.json wants ${entry.version}`;
    }
  }
  return undefined;
}

function npm(args) {
  const started = Date.now();
  say(`running npm ${args.join(' ')} (a few minutes the first time) ...`);
  const npmCli = process.env.npm_execpath; // set when run by npm: the same npm the user runs
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: root, stdio: 'inherit' });
  if (result.error) fail(`could not run npm: ${result.error.message}`);
  if (result.status !== 0) fail(`npm ${args[0]} failed (exit ${result.status}); see its output above`);
  say(`npm ${args[0]} done in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** npm 11 may skip the install scripts of esbuild (tsx) and @swc/core (workflow bundling); rebuild them if needed. */
function checkNativeTools() {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      "require('esbuild').transformSync('let a: number = 1', { loader: 'ts' }); require('@swc/core').transformSync('let a = 1', {})",
    ],
    { cwd: root, stdio: 'ignore' }
  );
  if (probe.status !== 0) {
    say('esbuild or @swc/core is not usable: rebuilding them with their install scripts');
    npm(['rebuild', 'esbuild', '@swc/core', '--foreground-scripts']);
  }
}

function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`Node.js ${process.version} is too old; this project needs Node.js 20 or newer`);
  if (/^(1|true|yes)$/i.test(process.env.COSMOS_RUNBOOK_SKIP_BOOTSTRAP || '')) return;

  const why = staleness();
  if (!why) return;
  const modules = path.join(root, 'node_modules');
  if (why === 'missing') {
    say('node_modules is missing');
    npm(['ci', '--no-audit', '--no-fund']);
  } else if (fs.lstatSync(modules).isSymbolicLink()) {
    // A node_modules shared with another checkout is not ours to change.
    say(`node_modules ${why}; it is a symbolic link, so it is left alone (run npm install where it lives)`);
    return;
  } else {
    say(`node_modules ${why}`);
    npm(['install', '--no-audit', '--no-fund']);
  }
  checkNativeTools();
  const left = staleness();
  if (left) fail(`node_modules still ${left} after installing; run \`npm ci\` and read its output`);
}

main();
