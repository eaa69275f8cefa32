import type { EnvironmentInput } from './schema';

/** A development environment: one Keycloak site on a one-Region global cluster, cheap to tear down. */
export const dev: EnvironmentInput = {
  name: 'dev',
  layout: 'single-site',
  globalClusterIdentifier: 'keycloak-dev',
  regions: ['eu-west-1'],
  instancesPerRegion: 1,
  instanceClass: 'db.r6g.large',
  engineVersion: '16.6',
  masterUsername: 'keycloak',
  deletionProtection: false,
  skipFinalSnapshot: true,
  backupRetentionDays: 1,
  sites: [
    {
      name: 'rosa-dev',
      region: 'eu-west-1',
      vpcId: 'vpc-0d0e0a0b0c0d00001',
      cidr: '10.0.0.0/16',
      routeTableIds: ['rtb-0d0e0a0b0c0d00001', 'rtb-0d0e0a0b0c0d00002'],
    },
  ],
  writerDns: { domain: 'dev.keycloak.internal' },
  stateBackend: { type: 'local' },
};
