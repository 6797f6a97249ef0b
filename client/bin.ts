#!/usr/bin/env node
/**
 * The `cosmos-runbook` command of the installed package (package.json `bin`, compiled to dist/client/bin.js by
 * `npm run build`): the `migrate` commands (`cosmos-runbook up <id>`, `status`, `doctor`, …) and `cosmos-runbook
 * worker`, running as JavaScript without tsx (tsx is loaded only for TypeScript migration modules,
 * activities/registry.ts).
 */
import { main } from './cli';

void main(process.argv, 'cosmos-runbook');
