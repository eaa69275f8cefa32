/**
 * Decides what the writer's DNS record should say, from what AWS reports right now.
 * Pure: the same facts give the same decision, whatever event triggered the run.
 */
import type { DBCluster, GlobalCluster } from '@aws-sdk/client-rds';
import { normalizeDnsName } from '../../modules/core/names';
import type { WriterDnsConfig } from './config';

/** The record as Route 53 holds it now. */
export interface CurrentRecord {
  readonly target: string;
  readonly ttlSeconds: number | undefined;
}

/** What AWS says at one moment; `undefined` means it does not exist. */
export interface Facts {
  readonly globalCluster: GlobalCluster | undefined;
  readonly ownCluster: DBCluster | undefined;
  readonly record: CurrentRecord | undefined;
}

export type Decision =
  /** Nothing to do now; the same run tries again until its deadline. */
  | { readonly action: 'wait'; readonly reason: string }
  /** Another Region's function owns the record now. */
  | { readonly action: 'skip'; readonly reason: string }
  /** The record already names the right target. */
  | { readonly action: 'keep'; readonly target: string; readonly alarm?: string }
  /** Write the record: UPSERT. */
  | { readonly action: 'upsert'; readonly target: string; readonly previous: string | undefined; readonly alarm?: string }
  /** Something is wrong that waiting will not fix. */
  | { readonly action: 'fail'; readonly reason: string };

/** The Region in an RDS ARN: `arn:aws:rds:eu-west-1:123456789012:cluster:name` → `eu-west-1`. */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

export function decide(facts: Facts, config: WriterDnsConfig): Decision {
  const { globalCluster, ownCluster } = facts;
  const inFlight = globalCluster?.FailoverState?.Status;
  if (inFlight) {
    const { FromDbClusterArn: from, ToDbClusterArn: to } = globalCluster.FailoverState!;
    return { action: 'wait', reason: `a switchover or failover is ${inFlight} (from ${from ?? '?'} to ${to ?? '?'})` };
  }

  const members = globalCluster?.GlobalClusterMembers ?? [];
  const ownIsMember = members.some((member) => member.DBClusterArn === ownCluster?.DBClusterArn);
  if (ownCluster && !ownIsMember && isStandaloneWriter(ownCluster)) {
    // Detached from the global cluster and promoted: the operator made this cluster the writer,
    // and Aurora's global writer endpoint cannot follow it there.
    return writeOrKeep(facts, config, ownCluster.Endpoint!,
      `${ownCluster.DBClusterIdentifier} was detached from global cluster ${config.globalClusterIdentifier} and promoted; ` +
        'the record names its writer endpoint, and the global writer endpoint cannot serve it');
  }

  if (!globalCluster) return { action: 'fail', reason: `global cluster ${config.globalClusterIdentifier} does not exist` };
  const writer = members.find((member) => member.IsWriter);
  if (!writer?.DBClusterArn) return { action: 'wait', reason: `no member of ${config.globalClusterIdentifier} is the writer yet` };

  const writerRegion = regionOfArn(writer.DBClusterArn);
  if (writerRegion !== config.region) {
    return { action: 'skip', reason: `the writer ${writer.DBClusterArn} is in ${writerRegion}; the function there owns the record` };
  }

  if (config.target === 'global-writer') {
    if (!globalCluster.Endpoint) {
      return { action: 'fail', reason: `global cluster ${config.globalClusterIdentifier} reports no global writer endpoint` };
    }
    return writeOrKeep(facts, config, globalCluster.Endpoint);
  }

  if (!ownCluster || ownCluster.DBClusterArn !== writer.DBClusterArn) {
    return {
      action: 'fail',
      reason: `the writer ${writer.DBClusterArn} is not this Region's member cluster ${config.ownClusterIdentifier}`,
    };
  }
  if (ownCluster.Status !== 'available' || !ownCluster.Endpoint) {
    return { action: 'wait', reason: `writer cluster ${ownCluster.DBClusterIdentifier} is ${ownCluster.Status}, not available` };
  }
  return writeOrKeep(facts, config, ownCluster.Endpoint);
}

/** A cluster that takes writes on its own: available, not a replica and in no global cluster. */
function isStandaloneWriter(cluster: DBCluster): boolean {
  return (
    cluster.Status === 'available' &&
    Boolean(cluster.Endpoint) &&
    !cluster.GlobalClusterIdentifier &&
    !cluster.ReplicationSourceIdentifier
  );
}

function writeOrKeep(facts: Facts, config: WriterDnsConfig, target: string, alarm?: string): Decision {
  const wanted = normalizeDnsName(target);
  const { record } = facts;
  if (record && normalizeDnsName(record.target) === wanted && record.ttlSeconds === config.recordTtlSeconds) {
    return { action: 'keep', target: wanted, alarm };
  }
  return { action: 'upsert', target: wanted, previous: record?.target, alarm };
}
