/**
 * How the worker and the CLI reach Azure, from their configuration (activities/clients.ts): endpoint discovery stays
 * on for a real account whatever CA is trusted (NODE_EXTRA_CA_CERTS on a corporate image must not cost multi-region
 * failover) and is off only for the local stack's loopback emulator; preferred regions; the ARM token's audience for
 * sovereign clouds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { armTokenScope, cosmosClientOptions } from '../../activities/clients';
import { loadWorkerConfig } from '../../worker/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-clients-'));
const ca = path.join(dir, 'corporate-ca.pem');
// Any PEM text: only read, to be added to the trusted CAs.
fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const production = {
  COSMOS_RUNBOOK_STACK_ENV: 'off',
  TEMPORAL_ADDRESS: 'prod.tmprl.invalid:7233',
  COSMOS_ENDPOINT: 'https://prod-account.documents.azure.com:443/',
  AZURE_SUBSCRIPTION_ID: 'sub',
  AZURE_RESOURCE_GROUP: 'rg',
  COSMOS_ACCOUNT: 'prod-account',
  MIGRATIONS_DIR: dir,
};

test('endpoint discovery stays on with an extra CA trusted, for a real account and for the loopback emulator alike', () => {
  const config = loadWorkerConfig({ ...production, NODE_EXTRA_CA_CERTS: ca }, dir);
  expect(config.azure.caCertPath).toBe(ca);
  expect(cosmosClientOptions({ ...config.azure, cosmosKey: 'k' }).connectionPolicy).toMatchObject({
    enableEndpointDiscovery: true,
  });
  for (const cosmosEndpoint of ['https://127.0.0.1:8081/', 'https://localhost:8081/', 'https://[::1]:8081/']) {
    expect(cosmosClientOptions({ ...config.azure, cosmosEndpoint, cosmosKey: 'k' }).connectionPolicy).toMatchObject({
      enableEndpointDiscovery: true,
    });
  }
});

test('COSMOS_PREFERRED_REGIONS sets the regions the client reads from, in order', () => {
  const config = loadWorkerConfig({ ...production, COSMOS_PREFERRED_REGIONS: ' West Europe, North Europe ,' }, dir);
  expect(config.azure.preferredRegions).toEqual(['West Europe', 'North Europe']);
  expect(cosmosClientOptions({ ...config.azure, cosmosKey: 'k' }).connectionPolicy?.preferredLocations).toEqual([
    'West Europe',
    'North Europe',
  ]);
  const none = loadWorkerConfig(production, dir);
  expect(cosmosClientOptions({ ...none.azure, cosmosKey: 'k' }).connectionPolicy).not.toHaveProperty(
    'preferredLocations'
  );
});

test('the ARM endpoint and the token audience come from the configuration (sovereign clouds)', () => {
  expect(armTokenScope({})).toBe('https://management.azure.com/.default');
  const gov = loadWorkerConfig({ ...production, ARM_ENDPOINT: 'https://management.usgovcloudapi.net/' }, dir);
  expect(gov.azure.armEndpoint).toBe('https://management.usgovcloudapi.net/');
  expect(armTokenScope(gov.azure)).toBe('https://management.usgovcloudapi.net/.default');
  const china = loadWorkerConfig(
    {
      ...production,
      ARM_ENDPOINT: 'https://management.chinacloudapi.cn',
      ARM_AUDIENCE: 'https://management.core.chinacloudapi.cn/',
    },
    dir
  );
  expect(armTokenScope(china.azure)).toBe('https://management.core.chinacloudapi.cn/.default');
});
