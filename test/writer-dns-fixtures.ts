/**
 * Realistic payloads for the writer-DNS handler: EventBridge events as RDS and the scheduler send
 * them, and DescribeGlobalClusters / DescribeDBClusters / ListResourceRecordSets responses.
 */
import type { DBCluster, GlobalCluster } from '@aws-sdk/client-rds';
import type { WriterDnsConfig } from '../functions/writer-dns/config';

export const ACCOUNT = '123456789012';
export const GLOBAL = 'keycloak-prod';
export const REGIONS = ['eu-west-1', 'eu-central-1'] as const;
export const RECORD = 'keycloak-prod.aurora-global.example.internal';
export const ZONE = 'Z0123456789ABCDEFGHIJ';
export const GLOBAL_ENDPOINT = 'keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com';

export const clusterId = (region: string) => `${GLOBAL}-${region}`;
export const clusterArn = (region: string, id = clusterId(region)) => `arn:aws:rds:${region}:${ACCOUNT}:cluster:${id}`;
export const writerEndpoint = (region: string) => `${clusterId(region)}.cluster-c9akciq32x1p.${region}.rds.amazonaws.com`;

export function configFor(region: string, target: WriterDnsConfig['target'] = 'regional-writer'): WriterDnsConfig {
  return {
    globalClusterIdentifier: GLOBAL,
    ownClusterIdentifier: clusterId(region),
    memberClusterIdentifiers: REGIONS.map(clusterId),
    region,
    hostedZoneId: ZONE,
    recordName: RECORD,
    recordTtlSeconds: 5,
    target,
  };
}

/** An "RDS DB Cluster Event" as EventBridge delivers it. */
export function rdsClusterEvent(eventId: string, region: string, message: string, cluster = clusterId(region)) {
  return {
    version: '0',
    id: 'c9598bd3-36eb-1289-6d01-768bdaacf8a0',
    'detail-type': 'RDS DB Cluster Event',
    source: 'aws.rds',
    account: ACCOUNT,
    time: '2026-11-21T10:42:24Z',
    region,
    resources: [clusterArn(region, cluster)],
    detail: {
      EventCategories: ['global-failover'],
      SourceType: 'CLUSTER',
      SourceArn: clusterArn(region, cluster),
      Date: '2026-11-21T10:42:24.698Z',
      Message: message,
      SourceIdentifier: cluster,
      EventID: eventId,
    },
  };
}

export const switchoverFinished = (region: string) =>
  rdsClusterEvent('RDS-EVENT-0185', region, `Global switchover to DB cluster ${clusterId(region)} in Region ${region} completed.`);
export const failoverCompleted = (region: string) =>
  rdsClusterEvent('RDS-EVENT-0238', region, `Global failover to DB cluster ${clusterId(region)} in Region ${region} completed.`);
export const failoverNoInstances = (region: string) =>
  rdsClusterEvent('RDS-EVENT-0519', region, `Global failover to DB cluster ${clusterId(region)} completed. The promoted cluster has no DB instances.`);

/** The reconcile schedule's event. */
export const scheduledEvent = (region: string) => ({
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time: '2026-11-21T10:45:00Z',
  region,
  resources: [`arn:aws:events:${region}:${ACCOUNT}:rule/${GLOBAL}-dns-schedule`],
  detail: {},
});

/** DescribeGlobalClusters' GlobalCluster with the writer in `writerRegion`. */
export function globalCluster(writerRegion: string | undefined, extra: Partial<GlobalCluster> = {}): GlobalCluster {
  return {
    GlobalClusterIdentifier: GLOBAL,
    GlobalClusterResourceId: 'cluster-1a2b3c4d5e6f7a8b',
    GlobalClusterArn: `arn:aws:rds::${ACCOUNT}:global-cluster:${GLOBAL}`,
    Status: 'available',
    Engine: 'aurora-postgresql',
    EngineVersion: '16.6',
    StorageEncrypted: true,
    DeletionProtection: true,
    Endpoint: GLOBAL_ENDPOINT,
    GlobalClusterMembers: REGIONS.map((region) => ({
      DBClusterArn: clusterArn(region),
      Readers: REGIONS.filter((other) => other !== region).map((other) => clusterArn(other)),
      IsWriter: region === writerRegion,
      GlobalWriteForwardingStatus: 'disabled',
      ...(region !== writerRegion && { SynchronizationStatus: 'connected' }),
    })),
    ...extra,
  };
}

/** DescribeDBClusters' DBCluster for the member in `region`. */
export function memberCluster(region: string, extra: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: clusterId(region),
    DBClusterArn: clusterArn(region),
    Status: 'available',
    Engine: 'aurora-postgresql',
    EngineVersion: '16.6',
    Endpoint: writerEndpoint(region),
    ReaderEndpoint: `${clusterId(region)}.cluster-ro-c9akciq32x1p.${region}.rds.amazonaws.com`,
    MultiAZ: true,
    GlobalClusterIdentifier: GLOBAL,
    StorageEncrypted: true,
    ...extra,
  };
}

/** ListResourceRecordSets starting at the record, as Route 53 answers (names end with a dot). */
export function recordSets(target: string | undefined, ttl = 5) {
  return {
    ResourceRecordSets: target
      ? [{ Name: `${RECORD}.`, Type: 'CNAME' as const, TTL: ttl, ResourceRecords: [{ Value: target }] }]
      : [{ Name: `zz-other.aurora-global.example.internal.`, Type: 'CNAME' as const, TTL: 300, ResourceRecords: [{ Value: 'x.example' }] }],
    IsTruncated: false,
    MaxItems: 1,
  };
}
