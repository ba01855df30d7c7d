import { seedApps } from './apps.js';
import type { TenantModel } from './model.js';
import { seedDirectory, tenantIdForSeed } from './seed.js';
import { ENTRA_DEFAULT_TAP_POLICY } from './tap-policy.js';

export interface TenantOptions {
  /** Deterministic seed: the same seed and size always give the same tenant. */
  seed: number;
  /** Number of users (default 1000). */
  userCount: number;
}

/** Builds the seeded tenant: registered apps and broker registrations, then the directory. */
export function createTenant(options: TenantOptions): TenantModel {
  const model: TenantModel = {
    tenantId: tenantIdForSeed(options.seed),
    domain: 'contoso.example',
    users: new Map(),
    deletedUsers: new Map(),
    groups: new Map(),
    devices: new Map(),
    contacts: new Map(),
    endpoints: new Map(),
    apps: new Map(),
    brokerRegistrations: new Map(),
    temporaryAccessPassPolicy: { ...ENTRA_DEFAULT_TAP_POLICY },
    changes: [],
    changeSeq: 0,
    wellKnown: {
      adminUserId: '',
      adminPassword: '',
      demoAppId: '',
      demoAppSecret: '',
      readOnlyAppId: '',
      readOnlyAppSecret: '',
      hostedAppId: '',
      brokerRegistrationId: '',
      gatewayApiAudience: 'api://msgraph-user-gateway',
      otherApiAudience: 'api://contoso-directory-sync',
      callerAppId: '',
      callerAppSecret: '',
      readerCallerAppId: '',
      readerCallerAppSecret: '',
    },
  };
  seedApps(model, options.seed);
  seedDirectory(model, options);
  return model;
}
