/**
 * Decides what the writer's DNS record should say, from what AWS reports right now.
 * Pure: the same facts give the same decision, whatever event triggered the run.
 */
import type { DBCluster, GlobalCluster } from '@aws-sdk/client-rds';
import { normalizeDnsName } from '../../modules/core/names';
import type { Pin } from './aws';
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
  /** The pin on the name, when a detach-and-promote or an operator fixed it. */
  readonly pin?: Pin;
}

/** The `by` of a pin a blue/green cut-over wrote. */
export const BLUEGREEN_PINNER = 'bluegreen cutover';

/** The command that shows both writers and makes the choice. */
export const CHOOSE_COMMAND = 'keycloak-aurora-dr writer-dns <env> --to <region>';

export type Decision =
  /** Nothing to do now; the same run tries again until its deadline. */
  | { readonly action: 'wait'; readonly reason: string }
  /** Another Region's function owns the record now. */
  | { readonly action: 'skip'; readonly reason: string }
  /** The record already names the right target. */
  | { readonly action: 'keep'; readonly target: string; readonly alarm?: string }
  /** Write the record (replacing exactly what was read); `pin` fixes it there for every handler, `release` drops the pin read in the same change. */
  | { readonly action: 'upsert'; readonly target: string; readonly previous: string | undefined; readonly alarm?: string; readonly pin?: { readonly cluster: string }; readonly release?: true }
  /** Something is wrong that waiting will not fix. */
  | { readonly action: 'fail'; readonly reason: string };

/** The Region in an RDS ARN: `arn:aws:rds:eu-west-1:123456789012:cluster:name` → `eu-west-1`. */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/**
 * With a pin, no handler moves the name: it keeps what the pin says, and alarms when it would have
 * moved it (the old primary's Region back as writer of the old global cluster: two writers) or when
 * the record no longer says what the pin says. The one pin a handler drops is a blue/green
 * cut-over's on a member of the global cluster it follows: the configuration has followed green.
 */
export function decide(facts: Facts, config: WriterDnsConfig): Decision {
  const { pin, record } = facts;
  const unpinned = decideUnpinned(facts, config);
  if (!pin) return unpinned;
  // A blue/green pin on a member of the global cluster this handler follows: the configuration
  // follows green now (blueGreen.live), so the handlers own the name again and a switchover of green
  // moves it. One global cluster has one writer: releasing cannot make two.
  const followed = (facts.globalCluster?.GlobalClusterMembers ?? []).some((member) => member.DBClusterArn === pin.cluster);
  if (followed && pin.by.startsWith(BLUEGREEN_PINNER)) {
    if (unpinned.action === 'upsert') return { ...unpinned, release: true };
    // Written even where the name is right: the change is what drops the pin.
    if (unpinned.action === 'keep') return { ...unpinned, action: 'upsert', previous: record?.target, release: true };
    return unpinned;
  }
  const pinned = normalizeDnsName(pin.endpoint);
  const pinnedBy = `${config.recordName} is pinned to ${pin.cluster} (by ${pin.by} at ${pin.at})`;
  if (!record || normalizeDnsName(record.target) !== pinned) {
    return { action: 'fail', reason: `${pinnedBy} but names ${record?.target ?? 'nothing'}; no handler changes a pinned name: choose with "${CHOOSE_COMMAND}"` };
  }
  // A keep names what the record names, which is the pin: only a write would move it.
  const wouldMoveTo = unpinned.action === 'upsert' && unpinned.target !== pinned ? unpinned.target : undefined;
  // A blue/green cut-over closed blue before it pinned the name on green: blue's writer takes no writes, so there are not two.
  if (wouldMoveTo && pin.by.startsWith(BLUEGREEN_PINNER)) return { action: 'keep', target: pinned };
  if (wouldMoveTo) {
    return { action: 'keep', target: pinned, alarm: `${pinnedBy}; this Region's writer would take it (${wouldMoveTo}): two writers may be taking writes. Choose one with "${CHOOSE_COMMAND}"` };
  }
  return { action: 'keep', target: pinned, alarm: 'alarm' in unpinned ? unpinned.alarm : undefined };
}

function decideUnpinned(facts: Facts, config: WriterDnsConfig): Decision {
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
    const alarm = `${ownCluster.DBClusterIdentifier} was detached from global cluster ${config.globalClusterIdentifier} and promoted; ` +
      'the record names its writer endpoint, pinned there so that no other Region takes it back, and the global writer endpoint cannot serve it';
    // Written with the pin, in one change, even when the record already names it: the pin is what
    // stops the old primary's Region. Once pinned, decide() keeps it.
    return { action: 'upsert', target: normalizeDnsName(ownCluster.Endpoint!), previous: facts.record?.target, alarm, pin: { cluster: ownCluster.DBClusterArn! } };
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
