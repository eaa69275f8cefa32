import type { EnvironmentInput } from './schema';

/**
 * Production: two Keycloak sites, one per Region, on a global cluster over both Regions; state in S3.
 * Replication between the Regions is asynchronous: a regional failover can lose the last second of writes.
 */
export const prod: EnvironmentInput = {
  name: 'prod',
  layout: 'multi-site',
  globalClusterIdentifier: 'keycloak-prod',
  regions: ['eu-west-1', 'eu-central-1'],
  instancesPerRegion: 2,
  instanceClass: 'db.r6g.xlarge',
  engineVersion: '16.6',
  auroraCidrs: { 'eu-west-1': '10.100.0.0/20', 'eu-central-1': '10.100.16.0/20' },
  masterUsername: 'keycloak',
  deletionProtection: true,
  backupRetentionDays: 14,
  blueGreen: { enabled: true },
  drOrchestrator: { enabled: true },
  sites: [
    {
      name: 'site-a',
      region: 'eu-west-1',
      vpcId: 'vpc-0a0a0a0a0a0a00001',
      cidr: '10.1.0.0/16',
      routeTableIds: ['rtb-0a0a0a0a0a0a00001', 'rtb-0a0a0a0a0a0a00002', 'rtb-0a0a0a0a0a0a00003'],
    },
    {
      name: 'site-b',
      region: 'eu-central-1',
      vpcId: 'vpc-0b0b0b0b0b0b00001',
      cidr: '10.2.0.0/16',
      routeTableIds: ['rtb-0b0b0b0b0b0b00001', 'rtb-0b0b0b0b0b0b00002', 'rtb-0b0b0b0b0b0b00003'],
    },
  ],
  writerDns: {
    domain: 'keycloak.example.com',
    ttlSeconds: 5,
    alarmEmails: ['identity-oncall@example.com'],
  },
  stateBackend: {
    type: 's3',
    bucket: 'example-keycloak-terraform-state',
    region: 'eu-west-1',
    keyPrefix: 'keycloak-aurora-dr',
  },
  tags: { CostCenter: 'identity' },
};
