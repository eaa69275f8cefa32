/** What started a run: an RDS event saying the writer moved, the reconcile schedule, or neither. */
import type { WriterDnsConfig } from './config';

/** DB cluster events after which the writer may have moved (delivered best effort: late, twice or never). */
export const WRITER_MOVED_EVENTS: Readonly<Record<string, string>> = {
  'RDS-EVENT-0185': 'global switchover finished',
  'RDS-EVENT-0238': 'global failover completed',
  'RDS-EVENT-0519': 'global failover completed, promoted cluster has no instances',
};

/** Aurora finished changing what the global writer endpoint resolves to (a cluster event, confirmed in the RDS event table). */
export const GLOBAL_ENDPOINT_MOVED_EVENT = 'RDS-EVENT-0397';

/**
 * Events that page the alarm topic directly from EventBridge (no handler in the way), each checked
 * against the RDS event table: a move that failed, and write fencing that timed out.
 */
export const PAGING_EVENTS = {
  cluster: { 'RDS-EVENT-0187': 'global switchover failed', 'RDS-EVENT-0239': 'global failover failed' },
  instance: { 'RDS-EVENT-0391': 'blocking writes on the old primary timed out: the move goes on, but recently written data may have to be recovered from it' },
} as const;

export type Trigger =
  | { readonly kind: 'writer-moved'; readonly eventId: string; readonly meaning: string; readonly cluster: string; readonly time: string }
  | { readonly kind: 'global-endpoint-moved'; readonly eventId: string; readonly cluster: string; readonly time: string }
  | { readonly kind: 'schedule'; readonly time: string }
  | { readonly kind: 'ignored'; readonly reason: string };

interface EventBridgeEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly time?: string;
  readonly detail?: { readonly EventID?: string; readonly SourceIdentifier?: string; readonly SourceType?: string };
}

export function classifyTrigger(event: unknown, config: WriterDnsConfig): Trigger {
  const { source, 'detail-type': detailType, time = '', detail } = (event ?? {}) as EventBridgeEvent;
  if (source === 'aws.events' && detailType === 'Scheduled Event') return { kind: 'schedule', time };
  if (source !== 'aws.rds' || detailType !== 'RDS DB Cluster Event') {
    return { kind: 'ignored', reason: `not an RDS cluster event or the schedule (source ${source}, detail-type ${detailType})` };
  }
  const eventId = detail?.EventID ?? '';
  const cluster = detail?.SourceIdentifier ?? '';
  if (!config.memberClusterIdentifiers.includes(cluster)) {
    return { kind: 'ignored', reason: `${cluster} is not a member of ${config.globalClusterIdentifier}` };
  }
  if (eventId === GLOBAL_ENDPOINT_MOVED_EVENT) return { kind: 'global-endpoint-moved', eventId, cluster, time };
  const meaning = WRITER_MOVED_EVENTS[eventId];
  if (!meaning) return { kind: 'ignored', reason: `${eventId} does not mean the writer moved` };
  return { kind: 'writer-moved', eventId, meaning, cluster, time };
}
