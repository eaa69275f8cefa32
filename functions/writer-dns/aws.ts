/** One AWS call each, with "not found" turned into undefined. */
import {
  DBCluster,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  GlobalCluster,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { normalizeDnsName } from '../../modules/core/names';
import type { CurrentRecord } from './decide';

export async function describeGlobalCluster(rds: RDSClient, identifier: string): Promise<GlobalCluster | undefined> {
  try {
    const { GlobalClusters } = await rds.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: identifier }));
    return GlobalClusters?.[0];
  } catch (error) {
    if ((error as Error).name === 'GlobalClusterNotFoundFault') return undefined;
    throw error;
  }
}

export async function describeCluster(rds: RDSClient, identifier: string): Promise<DBCluster | undefined> {
  try {
    const { DBClusters } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
    return DBClusters?.[0];
  } catch (error) {
    if ((error as Error).name === 'DBClusterNotFoundFault') return undefined;
    throw error;
  }
}

/** The CNAME named `recordName` in the zone, or undefined when there is none. */
export async function readRecord(route53: Route53Client, zoneId: string, recordName: string): Promise<CurrentRecord | undefined> {
  const { ResourceRecordSets } = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: recordName, StartRecordType: 'CNAME', MaxItems: 1 }),
  );
  const [found] = ResourceRecordSets ?? [];
  if (!found || found.Type !== 'CNAME' || normalizeDnsName(found.Name ?? '') !== recordName) return undefined;
  return { target: found.ResourceRecords?.[0]?.Value ?? '', ttlSeconds: found.TTL };
}

/** UPSERTs the CNAME; returns the change id to follow. */
export async function upsertRecord(
  route53: Route53Client,
  zoneId: string,
  record: { name: string; target: string; ttlSeconds: number; comment: string },
): Promise<string> {
  const { ChangeInfo } = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Comment: record.comment,
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: { Name: record.name, Type: 'CNAME', TTL: record.ttlSeconds, ResourceRecords: [{ Value: record.target }] },
          },
        ],
      },
    }),
  );
  return ChangeInfo?.Id ?? '';
}

/** True once Route 53 has the change on all its authoritative servers. */
export async function changeIsInSync(route53: Route53Client, changeId: string): Promise<boolean> {
  const { ChangeInfo } = await route53.send(new GetChangeCommand({ Id: changeId }));
  return ChangeInfo?.Status === 'INSYNC';
}
