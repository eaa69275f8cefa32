/** The handler, built from its configuration, clients and runtime, so tests can pass their own. */
import type { Context } from 'aws-lambda';
import type { WriterDnsConfig } from './config';
import { Clients, LoggerLike, Outcome, Runtime, reconcile } from './reconcile';
import { DescribeEventsCommand } from '@aws-sdk/client-rds';
import { classifyTrigger } from './trigger';

/** The messages of "global switchover finished" (0185) and "global failover completed" (0238). */
const MOVE_FINISHED = /^Global (switchover|failover) to DB cluster .* (finished|completed)\.?$/;

/** Time kept back from the Lambda timeout to log and return cleanly. */
export const DEADLINE_MARGIN_MS = 5_000;

export interface HandlerDependencies {
  readonly config: WriterDnsConfig;
  readonly clients: Clients;
  readonly runtime: Runtime & { readonly logger: LoggerLike & { error(message: string, ...extra: unknown[]): void } };
}

export function createHandler({ config, clients, runtime }: HandlerDependencies) {
  const { logger } = runtime;
  return async (event: unknown, context: Context): Promise<Outcome | { ignored: string }> => {
    const trigger = classifyTrigger(event, config);
    logger.info('triggered', { trigger });
    if (trigger.kind === 'ignored') return { ignored: trigger.reason };
    if (trigger.kind === 'global-endpoint-moved') await logGlobalEndpointDelay(clients, runtime, trigger.cluster, trigger.time);
    try {
      const deadline = runtime.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
      const outcome = await reconcile(clients, runtime, config, trigger, deadline);
      logger.info('done', { outcome });
      return outcome;
    } catch (error) {
      logger.error('failed', error);
      throw error;
    }
  };
}

/**
 * How long after the move Aurora's global writer endpoint followed: from the cluster's last
 * "switchover finished" or "failover completed" event to RDS-EVENT-0397, and how late the event came.
 * A measurement only: a failure to read the events is logged, never the run's failure.
 */
async function logGlobalEndpointDelay(clients: Clients, runtime: HandlerDependencies['runtime'], cluster: string, time: string): Promise<void> {
  const changedAt = Date.parse(time);
  try {
    const { Events } = await clients.rds.send(new DescribeEventsCommand({ SourceType: 'db-cluster', SourceIdentifier: cluster, StartTime: new Date(changedAt - 3_600_000), EndTime: new Date(changedAt) }));
    // DescribeEvents gives messages, not event ids: these are RDS-EVENT-0185's and RDS-EVENT-0238's.
    const moved = (Events ?? []).filter((event) => MOVE_FINISHED.test(event.Message ?? ''))
      .map((event) => event.Date?.getTime() ?? 0).sort((a, b) => b - a)[0];
    runtime.logger.info('global writer endpoint moved', {
      cluster,
      changedAt: time,
      deliveredAfterMs: runtime.now() - changedAt,
      ...(moved ? { afterMoveMs: changedAt - moved } : { afterMoveMs: null, note: 'no switchover-finished or failover-completed event in the hour before' }),
    });
  } catch (error) {
    runtime.logger.warn('global writer endpoint moved; its delay could not be read', { cluster, changedAt: time, error: (error as Error).name });
  }
}
