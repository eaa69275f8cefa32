/** The handler, built from its configuration, clients and runtime, so tests can pass their own. */
import type { Context } from 'aws-lambda';
import type { WriterDnsConfig } from './config';
import { Clients, LoggerLike, Outcome, Runtime, reconcile } from './reconcile';
import { classifyTrigger } from './trigger';

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
