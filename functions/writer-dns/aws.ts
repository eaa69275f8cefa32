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
import { normalizeDnsName, pinRecordName } from '../../modules/core/names';
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

/**
 * The pin: a TXT record `_writer-pin.<record>` that says which cluster the name must name, written
 * in the same change as the record when it is pointed at a cluster outside the global cluster (a
 * detach-and-promote) or by an operator's choice. While it exists no handler changes the name.
 */
export interface Pin {
  /** The endpoint the name must name. */
  readonly endpoint: string;
  /** The cluster behind it (its ARN). */
  readonly cluster: string;
  /** Who pinned it: `writer-dns/<region>` or `operator <identity>`. */
  readonly by: string;
  readonly at: string;
}


/** The pin's TXT value: one quoted string per field (each well under TXT's 255 characters). */
export function formatPin(pin: Pin): string {
  return (['endpoint', 'cluster', 'by', 'at'] as const).map((key) => JSON.stringify(`${key}=${pin[key]}`)).join(' ');
}

/** The pin a TXT value holds, or undefined when it is not one. */
export function parsePin(value: string): Pin | undefined {
  const fields = Object.fromEntries([...value.matchAll(/"([a-z]+)=([^"]*)"/g)].map(([, key, field]) => [key, field]));
  return fields.endpoint && fields.cluster ? { endpoint: fields.endpoint, cluster: fields.cluster, by: fields.by ?? '', at: fields.at ?? '' } : undefined;
}

/** A pin with its TXT value as Route 53 holds it, to delete it exactly. */
export type StoredPin = Pin & { readonly raw: string; readonly ttlSeconds?: number };

/** The pin as Route 53 holds it, or undefined. */
export async function readPin(route53: Route53Client, zoneId: string, recordName: string): Promise<StoredPin | undefined> {
  const name = pinRecordName(recordName);
  const { ResourceRecordSets } = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: 'TXT', MaxItems: 1 }));
  const [found] = ResourceRecordSets ?? [];
  if (!found || found.Type !== 'TXT' || normalizeDnsName(found.Name ?? '') !== name) return undefined;
  const raw = found.ResourceRecords?.[0]?.Value ?? '';
  const pin = parsePin(raw);
  return pin && { ...pin, raw, ttlSeconds: found.TTL };
}

const PIN_TTL_SECONDS = 60;

/**
 * Points the record at `target` only if it still is what was read: the old record is deleted
 * exactly as read and the new one created, in one change that Route 53 applies whole or not at all.
 * A writer that changed it in between makes the change fail (InvalidChangeBatch) instead of being
 * overwritten. The pin is created, or deleted exactly as read, in the same change. Returns the change id.
 */
export async function replaceRecord(
  route53: Route53Client,
  zoneId: string,
  change: {
    name: string;
    previous: CurrentRecord | undefined;
    target: string;
    ttlSeconds: number;
    comment: string;
    pin?: { readonly set?: Pin; readonly previous?: { readonly raw: string; readonly ttlSeconds?: number } };
  },
): Promise<string> {
  const cname = (value: string, ttl: number | undefined) => ({ Name: change.name, Type: 'CNAME' as const, TTL: ttl, ResourceRecords: [{ Value: value }] });
  const txt = (value: string, ttl: number | undefined) => ({ Name: pinRecordName(change.name), Type: 'TXT' as const, TTL: ttl, ResourceRecords: [{ Value: value }] });
  const { ChangeInfo } = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Comment: change.comment,
        Changes: [
          ...(change.previous ? [{ Action: 'DELETE' as const, ResourceRecordSet: cname(change.previous.target, change.previous.ttlSeconds) }] : []),
          { Action: 'CREATE' as const, ResourceRecordSet: cname(change.target, change.ttlSeconds) },
          ...(change.pin?.previous ? [{ Action: 'DELETE' as const, ResourceRecordSet: txt(change.pin.previous.raw, change.pin.previous.ttlSeconds) }] : []),
          ...(change.pin?.set ? [{ Action: 'CREATE' as const, ResourceRecordSet: txt(formatPin(change.pin.set), PIN_TTL_SECONDS) }] : []),
        ],
      },
    }),
  );
  return ChangeInfo?.Id ?? '';
}

/** Route 53's answer when a change no longer matches what is there: another writer came first. */
export function lostTheRace(error: unknown): boolean {
  return (error as Error).name === 'InvalidChangeBatch';
}

/** True once Route 53 has the change on all its authoritative servers. */
export async function changeIsInSync(route53: Route53Client, changeId: string): Promise<boolean> {
  const { ChangeInfo } = await route53.send(new GetChangeCommand({ Id: changeId }));
  return ChangeInfo?.Status === 'INSYNC';
}
