/**
 * An account's network rules as ARM reports them (DatabaseAccountGetResults in @azure/arm-cosmosdb
 * dist/commonjs/models/index.d.ts): `publicNetworkAccess`, `ipRules`, `isVirtualNetworkFilterEnabled`,
 * `virtualNetworkRules`, `networkAclBypass`. A restore does not bring them back ("What is and isn't restored",
 * https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-introduction): a restored account has what its
 * creation request asked for, and an account asked for with none is open to every network. The imitation records
 * and reports them; it does not filter connections by them.
 */
import { isRecord } from './http';

export interface NetworkRules {
  publicNetworkAccess: string;
  ipRules: { ipAddressOrRange: string }[];
  isVirtualNetworkFilterEnabled: boolean;
  virtualNetworkRules: { id: string; ignoreMissingVNetServiceEndpoint?: boolean }[];
  networkAclBypass: string;
}

export const OPEN_NETWORK: NetworkRules = {
  publicNetworkAccess: 'Enabled',
  ipRules: [],
  isVirtualNetworkFilterEnabled: false,
  virtualNetworkRules: [],
  networkAclBypass: 'None',
};

/** The rules an account creation request asks for (absent fields: Azure's defaults, open). */
export function networkRulesOf(properties: Record<string, unknown>): NetworkRules {
  const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value.filter(isRecord) as T[]) : []);
  return {
    publicNetworkAccess:
      typeof properties.publicNetworkAccess === 'string'
        ? properties.publicNetworkAccess
        : OPEN_NETWORK.publicNetworkAccess,
    ipRules: list(properties.ipRules),
    isVirtualNetworkFilterEnabled: properties.isVirtualNetworkFilterEnabled === true,
    virtualNetworkRules: list(properties.virtualNetworkRules),
    networkAclBypass:
      typeof properties.networkAclBypass === 'string' ? properties.networkAclBypass : OPEN_NETWORK.networkAclBypass,
  };
}
