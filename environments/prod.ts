import type { EnvironmentInput } from './schema';

/** Production: two Keycloak sites, a global cluster over two Regions, state in S3. */
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
  logicalReplication: true,
  writerDns: {
    domain: 'keycloak.example.com',
    ttlSeconds: 5,
    target: 'regional-writer',
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
