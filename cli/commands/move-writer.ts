import { FailoverGlobalClusterCommand, SwitchoverGlobalClusterCommand } from '@aws-sdk/client-rds';
import { callAws, waitFor } from '../aws';
import { OperatedEnvironment, requireMemberRegion } from '../environment';
import { CliError, ExitCode, refuse } from '../errors';
import { Deps, Observation, dnsView, observe, writerZoneId } from '../observe';
import { Io, formatDuration } from '../output';

export type MoveKind = 'switchover' | 'failover';

export interface MoveOptions {
  readonly kind: MoveKind;
  /** Region whose member cluster becomes the writer. */
  readonly to: string;
  /** Required for a failover: the operator accepts losing unreplicated writes. */
  readonly allowDataLoss: boolean;
  /** Give up waiting after this long (the operation itself goes on in AWS). */
  readonly timeoutMs: number;
  /** Time between looks while waiting. */
  readonly pollMs: number;
  readonly json: boolean;
}

export interface MoveResult {
  readonly kind: MoveKind;
  /** When the switchover or failover was requested (milliseconds since the epoch, on the CLI's clock). */
  readonly startedAt: number;
  readonly from: string;
  readonly to: string;
  readonly writerMovedAfterMs: number;
  readonly dnsFollowedAfterMs: number;
}

/** What a failover can lose, said before anything is done. */
export function dataLossWarning(to: string): string {
  return (
    `failover promotes the cluster in ${to} without waiting for replication: writes the current writer ` +
    'committed that have not yet reached it (typically under a second of writes; replication between Regions ' +
    `is asynchronous) are lost. For a planned move with no data loss use "switchover --to ${to}". ` +
    'To fail over anyway, add --allow-data-loss.'
  );
}

/** Checks that nothing stands in the way; throws the refusal otherwise. Changes nothing. */
export function checkMove(env: OperatedEnvironment, observation: Observation, options: Pick<MoveOptions, 'kind' | 'to'>): { target: string } {
  const { globalClusterIdentifier } = env;
  if (observation.inFlight) {
    const { status, from, to } = observation.inFlight;
    throw refuse(`a ${observation.inFlight.dataLossAllowed ? 'failover' : 'switchover'} of ${globalClusterIdentifier} is already in progress (${status}, from ${from} to ${to}); wait for it to finish`);
  }
  const target = observation.members.find((member) => member.region === options.to);
  if (!target) throw refuse(`${options.to} has no member cluster in global cluster ${globalClusterIdentifier} (was it detached?)`);
  if (target.isWriter) throw refuse(`the cluster in ${options.to} is already the writer of ${globalClusterIdentifier}; nothing to do`);
  if (options.kind === 'switchover' && target.synchronization && target.synchronization !== 'connected') {
    throw refuse(`the cluster in ${options.to} is ${target.synchronization}, not connected; a switchover needs every member in sync`);
  }
  return { target: target.arn };
}

/**
 * Every refusal the environment alone decides, before the first AWS call: a mistyped or foreign
 * Region would otherwise be asked first (it is the target), and a failover that may lose writes is
 * refused before anything is looked at.
 */
export function refuseWithoutAws(env: OperatedEnvironment, options: Pick<MoveOptions, 'kind' | 'to' | 'allowDataLoss'>): void {
  requireMemberRegion(env, options.to);
  if (options.kind === 'failover' && !options.allowDataLoss) throw refuse(dataLossWarning(options.to));
}

/**
 * A switchover (planned, no data loss) or a failover (unplanned, with --allow-data-loss) to a Region,
 * then waiting until that Region's cluster is the writer and the writer's DNS name follows.
 */
export async function moveWriter(env: OperatedEnvironment, deps: Deps, io: Io, options: MoveOptions): Promise<MoveResult> {
  refuseWithoutAws(env, options);
  // Ask the target Region first: in a real failover the writer's Region may not answer.
  const regions = [options.to, ...env.config.regions.filter((region) => region !== options.to)];
  const before = await observe(env, deps, regions);
  const { target } = checkMove(env, before, options);
  const zoneId = await writerZoneId(env, deps);
  const from = before.writer?.region ?? '(none)';
  const { globalClusterIdentifier } = env;

  const started = deps.clock.now();
  await callAws(options.kind === 'switchover' ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster', () =>
    deps.aws.rds(options.to).send(
      options.kind === 'switchover'
        ? new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: globalClusterIdentifier, TargetDbClusterIdentifier: target })
        : new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: globalClusterIdentifier, TargetDbClusterIdentifier: target, AllowDataLoss: true }),
    ), deps.clock);
  io.err(`${options.kind} of ${globalClusterIdentifier} from ${from} to ${options.to} started`);

  const deadline = started + options.timeoutMs;
  const elapsed = () => formatDuration(deps.clock.now() - started);
  let lastState = '';
  const settled = await waitFor(deps.clock, deadline, options.pollMs, async () => {
    const now = await observe(env, deps, regions);
    const state = now.inFlight ? `${now.inFlight.status}` : `writer in ${now.writer?.region ?? '(none)'}`;
    if (state !== lastState) io.err(`[${elapsed()}] ${state}`);
    lastState = state;
    return !now.inFlight && now.writer?.region === options.to ? now : undefined;
  });
  if (!settled) {
    throw new CliError(`${options.kind} did not finish within ${formatDuration(options.timeoutMs)} (last seen: ${lastState}); it goes on in AWS, check "status"`, ExitCode.timeout);
  }
  const writerMovedAfterMs = deps.clock.now() - started;
  io.err(`[${elapsed()}] the writer is in ${options.to}; waiting for ${env.recordName} to follow`);

  const dnsFollowed = await waitFor(deps.clock, deadline, options.pollMs, async () => {
    const view = await dnsView(env, deps, settled, zoneId);
    return view.inSync ? view : undefined;
  });
  if (!dnsFollowed) {
    throw new CliError(`the writer moved, but ${env.recordName} did not follow within ${formatDuration(options.timeoutMs)}; check the writer DNS handler's alarms and logs`, ExitCode.timeout);
  }
  const result: MoveResult = {
    kind: options.kind,
    startedAt: started,
    from,
    to: options.to,
    writerMovedAfterMs,
    dnsFollowedAfterMs: deps.clock.now() - started - writerMovedAfterMs,
  };
  if (options.json) io.out(JSON.stringify(result, null, 2));
  else io.out(`${options.kind} to ${options.to} done: the writer moved in ${formatDuration(result.writerMovedAfterMs)}, ${env.recordName} followed ${formatDuration(result.dnsFollowedAfterMs)} later`);
  return result;
}
