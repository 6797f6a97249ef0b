/**
 * A private local stack for one test file: the Cosmos emulator and the ARM imitation in-process on free ports, with a
 * fresh data folder and certificate, pointed at the run's shared Temporal dev server. Clients are the product's own
 * (activities/clients.ts), so tests talk to the stack exactly as the worker does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import type { CosmosClient } from '@azure/cosmos';
import { createArmClient, createCosmosClient, type AzureSettings } from '../../activities/clients';
import type { LocalArm } from '../../local/arm/types';
import type { LocalCosmos } from '../../local/cosmos/types';
import { startStack, type StackOptions } from '../../local/stack';
import { azureSettingsFromStackEnv, type StackEnv } from '../../local/stack-env';

export interface TestStackOptions {
  cosmosOptions?: StackOptions['cosmosOptions'];
  armOptions?: StackOptions['armOptions'];
  /** @default 50 (production's 2 s would only slow tests down) */
  armPollIntervalMs?: number;
  /** @default process.env.TEMPORAL_ADDRESS (the shared dev server) */
  temporalAddress?: string;
}

export interface TestStack {
  cosmos: LocalCosmos;
  arm: LocalArm;
  /** For createCosmosClient / createArmClient, and what a worker under test is configured with. */
  settings: AzureSettings;
  /** The variables a worker would read from .local/stack.env, TEMPORAL_ADDRESS included. */
  env: StackEnv;
  /** The stack's data folder (removed by close()). */
  dir: string;
  cosmosClient(): CosmosClient;
  armClient(): CosmosDBManagementClient;
  close(): Promise<void>;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const temporalAddress = options.temporalAddress ?? process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    throw new Error('TEMPORAL_ADDRESS is not set: run the tests with jest (test/support/global-setup.ts)');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-test-'));
  const stack = await startStack({
    dir,
    cosmosPort: 0,
    armPort: 0,
    temporal: { mode: 'existing', address: temporalAddress },
    cosmosOptions: options.cosmosOptions,
    armOptions: options.armOptions,
  }).catch((err: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const settings: AzureSettings = {
    ...azureSettingsFromStackEnv(stack.env),
    armPollIntervalMs: options.armPollIntervalMs ?? 50,
  };
  const cosmosClients: CosmosClient[] = [];
  return {
    cosmos: stack.cosmos,
    arm: stack.arm,
    settings,
    env: stack.env,
    dir,
    cosmosClient() {
      // As a worker's (createAccountCosmosClient): the local account's default consistency is Session.
      const client = createCosmosClient(settings, { sessionTokens: true });
      cosmosClients.push(client);
      return client;
    },
    armClient: () => createArmClient(settings),
    async close() {
      for (const client of cosmosClients.splice(0)) client.dispose();
      await stack.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
