import type { EnvironmentInput } from './schema';

/**
 * Keycloak's own multi-site blueprint: two sites in one Region, in different availability zones,
 * on that Region's cluster (synchronous within the Region). The global cluster adds a disaster
 * recovery Region that no site uses until a regional failover. State in HCP Terraform.
 */
export const staging: EnvironmentInput = {
  name: 'staging',
  layout: 'multi-site',
  globalClusterIdentifier: 'keycloak-staging',
  regions: ['eu-west-1', 'eu-central-1'],
  instancesPerRegion: 2,
  instanceClass: 'db.r6g.large',
  engineVersion: '16.6',
  auroraCidrPool: '10.110.0.0/16',
  masterUsername: 'keycloak',
  deletionProtection: true,
  backupRetentionDays: 7,
  // Logical replication on, and the green clone of the eu-west-1 cluster for the next upgrade.
  // The next upgrade: green on PostgreSQL 17, a global database over both Regions before the cut-over.
  blueGreen: { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '17.6' },
  sites: [
    {
      name: 'site-a',
      region: 'eu-west-1',
      availabilityZone: 'eu-west-1a',
      vpcId: 'vpc-05a05a05a05a00001',
      cidr: '10.11.0.0/16',
      routeTableIds: ['rtb-05a05a05a05a00001'],
    },
    {
      name: 'site-b',
      region: 'eu-west-1',
      availabilityZone: 'eu-west-1b',
      vpcId: 'vpc-05b05b05b05b00001',
      cidr: '10.12.0.0/16',
      routeTableIds: ['rtb-05b05b05b05b00001'],
    },
  ],
  writerDns: { domain: 'staging.keycloak.internal' },
  stateBackend: { type: 'cloud', organization: 'example-identity', project: 'keycloak', workspacePrefix: 'keycloak-' },
};
