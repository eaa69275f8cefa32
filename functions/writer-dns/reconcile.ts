/**
 * One run of the handler: look at the global cluster and the record, and make the record name the
 * writer. Waits with backoff while a switchover or failover is under way, up to a deadline.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { isThrottlingError } from '@smithy/core/retry';
import { StoredPin, changeIsInSync, describeCluster, describeGlobalCluster, lostTheRace, readPin, readRecord, replaceRecord } from './aws';
import type { WriterDnsConfig } from './config';
import { Decision, Facts, decide } from './decide';
import type { Trigger } from './trigger';

export interface Clients {
  readonly rds: RDSClient;
  readonly route53: Route53Client;
}

/** The part of a structured logger the handler uses (Powertools' Logger fits). */
export interface LoggerLike {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface Runtime {
  readonly logger: LoggerLike;
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

export interface Outcome {
  readonly decision: Decision;
  readonly attempts: number;
  /** Milliseconds from the UPSERT until Route 53 reported the change INSYNC, when it did before the deadline. */
  readonly inSyncAfterMs?: number;
}

/** The writer did not settle before the deadline: the run fails, so the event is retried, then dead-lettered. */
export class WriterNotSettledError extends Error {
  override readonly name = 'WriterNotSettledError';
}

/** A state waiting cannot fix, or one operators must see even though the record was written. */
export class WriterDnsAlarm extends Error {
  override readonly name = 'WriterDnsAlarm';
}

export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 16_000;
const INSYNC_POLL_MS = 2_000;

/** The facts, with the pin as Route 53 holds it, so that a release deletes exactly that. */
export async function gatherFacts({ rds, route53 }: Clients, config: WriterDnsConfig): Promise<Facts & { readonly pin?: StoredPin }> {
  const [globalCluster, ownCluster, record, pin] = await Promise.all([
    describeGlobalCluster(rds, config.globalClusterIdentifier),
    describeCluster(rds, config.ownClusterIdentifier),
    readRecord(route53, config.hostedZoneId, config.recordName),
    readPin(route53, config.hostedZoneId, config.recordName),
  ]);
  return { globalCluster, ownCluster, record, pin };
}

export async function reconcile(
  clients: Clients,
  runtime: Runtime,
  config: WriterDnsConfig,
  trigger: Trigger,
  deadline: number,
): Promise<Outcome> {
  let delay = FIRST_RETRY_DELAY_MS;
  for (let attempts = 1; ; attempts++) {
    let waitReason: string;
    try {
      const step = await attempt(clients, runtime, config, trigger, deadline, attempts);
      if ('outcome' in step) return step.outcome;
      waitReason = step.wait;
    } catch (error) {
      // Throttling of any call, the write included, is waited out like an operation in progress.
      if (!isThrottlingError(error as Parameters<typeof isThrottlingError>[0])) throw error;
      waitReason = `AWS throttled the request (${(error as Error).name})`;
      runtime.logger.warn('throttled', { attempt: attempts, error: (error as Error).name });
    }
    if (runtime.now() + delay > deadline) {
      throw new WriterNotSettledError(`gave up after ${attempts} attempts: ${waitReason}`);
    }
    await runtime.sleep(delay);
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}

/** One look and, when needed, one write: the outcome, or the reason to wait and look again. */
async function attempt(
  clients: Clients,
  runtime: Runtime,
  config: WriterDnsConfig,
  trigger: Trigger,
  deadline: number,
  attempts: number,
): Promise<{ outcome: Outcome } | { wait: string }> {
  const facts = await gatherFacts(clients, config);
  const decision = decide(facts, config);
  runtime.logger.info('decided', { attempt: attempts, decision });
  switch (decision.action) {
    case 'wait':
      return { wait: decision.reason };
    case 'fail':
      throw new WriterDnsAlarm(decision.reason);
    case 'skip':
      return { outcome: { decision, attempts } };
    case 'keep':
      if (decision.alarm) throw new WriterDnsAlarm(decision.alarm);
      return { outcome: { decision, attempts } };
    case 'upsert': {
      const written = runtime.now();
      let changeId: string;
      try {
        changeId = await replaceRecord(clients.route53, config.hostedZoneId, {
          name: config.recordName,
          previous: facts.record,
          target: decision.target,
          ttlSeconds: config.recordTtlSeconds,
          comment: describeChange(trigger, decision.previous),
          pin: {
            ...(decision.pin && { set: { endpoint: decision.target, cluster: decision.pin.cluster, by: `writer-dns/${config.region}`, at: new Date(written).toISOString() } }),
            ...(decision.release && { previous: facts.pin }),
          },
        });
      } catch (error) {
        // Another writer changed the record or pinned it since it was read: look again rather than overwrite it.
        if (lostTheRace(error)) return { wait: `the record changed while this run wrote it (${(error as Error).message})` };
        throw error;
      }
      runtime.logger.info('record written', { changeId, from: decision.previous, to: decision.target, ttlSeconds: config.recordTtlSeconds, pinned: Boolean(decision.pin), released: Boolean(decision.release) });
      const inSyncAfterMs = await waitForInSync(clients.route53, runtime, changeId, written, deadline);
      if (decision.alarm) throw new WriterDnsAlarm(decision.alarm);
      return { outcome: { decision, attempts, inSyncAfterMs } };
    }
  }
}

async function waitForInSync(
  route53: Route53Client,
  runtime: Runtime,
  changeId: string,
  written: number,
  deadline: number,
): Promise<number | undefined> {
  while (runtime.now() + INSYNC_POLL_MS <= deadline) {
    if (await changeIsInSync(route53, changeId)) {
      const inSyncAfterMs = runtime.now() - written;
      runtime.logger.info('record in sync', { changeId, inSyncAfterMs });
      return inSyncAfterMs;
    }
    await runtime.sleep(INSYNC_POLL_MS);
  }
  runtime.logger.warn('record not yet in sync at the deadline; Route 53 keeps propagating it', { changeId });
  return undefined;
}

function describeChange(trigger: Trigger, previous: string | undefined): string {
  const cause = trigger.kind === 'writer-moved' ? `${trigger.eventId} (${trigger.meaning}) on ${trigger.cluster}` : trigger.kind === 'global-endpoint-moved' ? `${trigger.eventId} on ${trigger.cluster}` : trigger.kind;
  return `writer-dns: ${cause}; was ${previous ?? 'absent'}`.slice(0, 256);
}
