/**
 * `writer-dns`: who takes writes in each Region, what the writer's name says and whether it is
 * pinned; and the operator's choice when two writers exist (after a detach-and-promote, the old
 * primary's Region coming back as writer of the old global cluster). Nothing is changed without
 * `--to` (a choice) or `--release`.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Pin, changeIsInSync, describeCluster, describeGlobalCluster, readPin, readRecord, replaceRecord } from '../../functions/writer-dns/aws';
import { BLUEGREEN_PINNER } from '../../functions/writer-dns/decide';
import { greenRegionOf, liveDatabase, slotIsGlobal, upgradeTargetSlot } from '../../environments/schema';
import { type DatabaseSlot, normalizeDnsName, slotIdentifiers } from '../../modules/core';
import { callAws, waitFor } from '../aws';
import type { ReachedInstances } from '../bluegreen/steps';
import { OperatedEnvironment, requireMemberRegion } from '../environment';
import { CliError, ExitCode, refuse } from '../errors';
import { Deps, writerZoneId } from '../observe';
import { Io, formatTable } from '../output';

export interface RegionWriterView {
  readonly region: string;
  readonly cluster: string;
  readonly arn?: string;
  /** `writer` or `secondary` of the global cluster, `standalone writer` (detached and promoted), `missing`, or `unreachable: …`. */
  readonly role: string;
  readonly endpoint?: string;
  /** The endpoint the name would take for this Region's writer. */
  readonly nameTarget?: string;
}

export interface WriterDnsReport {
  readonly name: string;
  readonly target?: string;
  readonly pin?: Pin;
  readonly regions: RegionWriterView[];
  /** Regions whose cluster takes writes now. */
  readonly writers: string[];
}

/** The writer's record and its pin, as Route 53 holds them now. */
async function readNameAndPin(env: OperatedEnvironment, deps: Deps, zoneId: string) {
  const route53 = deps.aws.route53();
  const [record, pin] = await Promise.all([
    callAws('ListResourceRecordSets', () => readRecord(route53, zoneId, env.recordName), deps.clock),
    callAws('ListResourceRecordSets', () => readPin(route53, zoneId, env.recordName), deps.clock),
  ]);
  return { record, pin };
}

const isWriter = (view: RegionWriterView) => view.role === 'writer' || view.role === 'standalone writer';

/** Each Region's cluster of `slot` (default: the live database) as that Region reports it: no Region's answer depends on another's. */
async function regionView(env: OperatedEnvironment, deps: Deps, region: string, slot = liveDatabase(env.config)): Promise<RegionWriterView> {
  const { globalClusterIdentifier } = slot;
  const cluster = slot.member(region);
  try {
    const rds = deps.aws.rds(region);
    const [global, own] = await Promise.all([
      callAws(`DescribeGlobalClusters in ${region}`, () => describeGlobalCluster(rds, globalClusterIdentifier), deps.clock, 2),
      callAws(`DescribeDBClusters in ${region}`, () => describeCluster(rds, cluster), deps.clock, 2),
    ]);
    if (!own) return { region, cluster, role: 'missing' };
    const base = { region, cluster, arn: own.DBClusterArn, endpoint: own.Endpoint };
    const member = global?.GlobalClusterMembers?.find((candidate) => candidate.DBClusterArn === own.DBClusterArn);
    if (member?.IsWriter) {
      const nameTarget = env.config.writerDns.target === 'global-writer' && global?.Endpoint ? global.Endpoint : own.Endpoint;
      return { ...base, role: 'writer', nameTarget };
    }
    if (member) return { ...base, role: 'secondary' };
    const standalone = !own.GlobalClusterIdentifier && !own.ReplicationSourceIdentifier && own.Status === 'available';
    return { ...base, role: standalone ? 'standalone writer' : `outside the global cluster, ${own.Status}`, ...(standalone && { nameTarget: own.Endpoint }) };
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.credentials) throw error;
    return { region, cluster, role: `unreachable (${(error as Error).message})` };
  }
}

export async function writerDns(env: OperatedEnvironment, deps: Deps, io: Io, options: { to?: string; release: boolean; json: boolean }): Promise<WriterDnsReport> {
  if (options.to && options.release) throw refuse('give --to <region> (choose the writer) or --release (unpin the name), not both');
  if (options.to) requireMemberRegion(env, options.to);
  const zoneId = await writerZoneId(env, deps);
  const route53 = deps.aws.route53();
  const [{ record, pin }, regions] = await Promise.all([
    readNameAndPin(env, deps, zoneId),
    Promise.all(env.config.regions.map((region) => regionView(env, deps, region))),
  ]);
  const writers = regions.filter(isWriter);
  const report: WriterDnsReport = {
    name: env.recordName,
    target: record && normalizeDnsName(record.target),
    pin: pin && { endpoint: pin.endpoint, cluster: pin.cluster, by: pin.by, at: pin.at },
    regions,
    writers: writers.map((view) => view.region),
  };
  if (options.json) io.out(JSON.stringify(report, null, 2));
  else {
    for (const line of formatTable([['REGION', 'CLUSTER', 'ROLE', 'ENDPOINT'], ...regions.map((view) => [view.region, view.cluster, view.role, view.endpoint ?? '-'])])) io.out(line);
    io.out('');
    io.out(`${env.recordName} -> ${report.target ?? '(no record)'}`);
    io.out(pin ? `  pinned to ${pin.cluster} by ${pin.by} at ${pin.at}: no handler moves it` : '  not pinned: the writer-DNS handlers keep it on the writer');
  }
  const twoWriters = writers.length > 1
    ? `${writers.length} clusters take writes: ${writers.map((view) => `${view.cluster} in ${view.region} (${view.role})`).join(', ')}`
    : undefined;

  if (options.to) {
    const chosen = regions.find((view) => view.region === options.to)!;
    if (!isWriter(chosen) || !chosen.nameTarget || !chosen.arn) {
      throw refuse(`the cluster in ${options.to} is ${chosen.role}, not a writer: a name on it would take no writes`);
    }
    const { Arn } = await callAws('GetCallerIdentity', () => deps.aws.sts(options.to!).send(new GetCallerIdentityCommand({})), deps.clock);
    const set: Pin = { endpoint: normalizeDnsName(chosen.nameTarget), cluster: chosen.arn, by: `operator ${Arn ?? 'unknown'}`, at: new Date(deps.clock.now()).toISOString() };
    await callAws('ChangeResourceRecordSets', () => replaceRecord(route53, zoneId, {
      name: env.recordName,
      previous: record,
      target: set.endpoint,
      ttlSeconds: env.config.writerDns.ttlSeconds,
      comment: `writer-dns: operator chose ${chosen.cluster} in ${options.to}`,
      pin: { set, previous: pin },
    }), deps.clock, 1);
    io.err(`${env.recordName} now names ${set.endpoint} (${chosen.cluster} in ${options.to}), pinned: the handlers keep it there until "writer-dns ${env.config.name} --release"`);
    if (twoWriters) io.err(`still ${twoWriters}: fence the other (stop its clients, or delete it once you have what you need from it), then release the pin`);
    return report;
  }
  if (options.release) {
    if (!pin) {
      io.err(`${env.recordName} is not pinned; nothing to release`);
      return report;
    }
    if (twoWriters) throw refuse(`${twoWriters}; releasing the pin would let each Region's handler take the name. Fence one first, or choose with --to <region>`);
    await callAws('ChangeResourceRecordSets', () => replaceRecord(route53, zoneId, {
      name: env.recordName,
      previous: record,
      target: record?.target ?? pin.endpoint,
      ttlSeconds: record?.ttlSeconds ?? env.config.writerDns.ttlSeconds,
      comment: 'writer-dns: operator released the pin',
      pin: { previous: pin },
    }), deps.clock, 1);
    io.err(`released: the writer-DNS handlers keep ${env.recordName} on the writer again`);
    return report;
  }
  if (twoWriters) throw refuse(`${twoWriters}. Choose which one the name leads to with --to <region>; nothing was changed`);
  if (pin) throw refuse(`${env.recordName} is pinned to ${pin.cluster}; one writer is left, so --release hands the name back to the handlers (or --to <region> moves it)`);
  return report;
}

export interface NameMove {
  readonly name: string;
  readonly target: string;
  /** False when the name already led there (a re-run). */
  readonly changed: boolean;
  /** From the change until Route 53 said INSYNC. */
  readonly inSyncAfterMs: number;
}

/** Where a blue/green step moves the name: the endpoint, and with `pinTo` the cluster it is pinned to (else the pin goes). */
interface NameDestination {
  readonly side: 'green' | 'blue';
  readonly target: string;
  readonly pinTo?: string;
  readonly comment: string;
}

/**
 * Moves the writer's name for a blue/green step, replacing exactly what it read (so it never
 * overwrites a concurrent change), then waits until Route 53 reports the change in sync. Repeatable.
 */
async function moveNameFor(env: OperatedEnvironment, deps: Deps, io: Io, timeoutMs: number, destination: NameDestination): Promise<NameMove> {
  const zoneId = await writerZoneId(env, deps);
  const route53 = deps.aws.route53();
  const { record, pin } = await readNameAndPin(env, deps, zoneId);
  const target = normalizeDnsName(destination.target);
  if (pin && !pin.by.startsWith(BLUEGREEN_PINNER)) throw refuse(operatorPinProblem(env, pin));
  const pinned = destination.pinTo ? pin?.cluster === destination.pinTo : !pin;
  if (record && normalizeDnsName(record.target) === target && pinned) return { name: env.recordName, target, changed: false, inSyncAfterMs: 0 };
  const region = greenRegionOf(env.config);
  const started = deps.clock.now();
  const set = destination.pinTo
    ? { endpoint: target, cluster: destination.pinTo, by: `${BLUEGREEN_PINNER} ${(await callAws('GetCallerIdentity', () => deps.aws.sts(region).send(new GetCallerIdentityCommand({})), deps.clock)).Arn ?? ''}`.trim(), at: new Date(started).toISOString() }
    : undefined;
  const changeId = await callAws('ChangeResourceRecordSets', () => replaceRecord(route53, zoneId, {
    name: env.recordName,
    previous: record,
    target,
    ttlSeconds: env.config.writerDns.ttlSeconds,
    comment: destination.comment,
    pin: { previous: pin, ...(set && { set }) },
  }), deps.clock, 1);
  io.err(`${env.recordName} now names ${destination.side} (${target})${set ? ', pinned' : ', unpinned'}; waiting for Route 53 to report it in sync`);
  const inSyncAt = await waitFor(deps.clock, started + timeoutMs, 1000, async () =>
    ((await callAws('GetChange', () => changeIsInSync(route53, changeId), deps.clock)) ? deps.clock.now() : undefined));
  if (inSyncAt === undefined) {
    throw new CliError(`${env.recordName} names ${destination.side}, but Route 53 did not report the change in sync within ${Math.round(timeoutMs / 1000)} s; it goes on propagating`, ExitCode.timeout);
  }
  return { name: env.recordName, target, changed: true, inSyncAfterMs: inSyncAt - started };
}

function requireBlueGreen(env: OperatedEnvironment): void {
  if (!env.config.blueGreen.enabled) throw refuse(`${env.config.name} has no blue/green (blueGreen.enabled is false)`);
}

/**
 * The last step of a blue/green cut-over: the writer's name to the run's target (green, or in the
 * next upgrade from a live green, blue made from it): its writer endpoint, or when it is a global
 * database and the target is the global writer, its global writer endpoint, so that a later
 * switchover moves it. Pinned, so that no writer-DNS handler (they follow the live database of the
 * configuration) points it back.
 */
export async function pointNameAtTarget(env: OperatedEnvironment, deps: Deps, io: Io, timeoutMs: number): Promise<NameMove> {
  requireBlueGreen(env);
  const slot = upgradeTargetSlot(env.config);
  if (!slot) throw refuse(noTargetProblem(env));
  // Both clones are made in green's Region: green's of blue, and blue's of green.
  const region = greenRegionOf(env.config);
  const target = slotIdentifiers(env.config.globalClusterIdentifier, slot);
  const identifier = target.member(region);
  const rds = deps.aws.rds(region);
  const [cluster, global] = await Promise.all([
    callAws(`DescribeDBClusters in ${region}`, () => describeCluster(rds, identifier), deps.clock),
    slotIsGlobal(env.config, slot)
      ? callAws(`DescribeGlobalClusters in ${region}`, () => describeGlobalCluster(rds, target.globalClusterIdentifier), deps.clock)
      : Promise.resolve(undefined),
  ]);
  if (!cluster?.Endpoint || !cluster.DBClusterArn) {
    throw refuse(`${slot} cluster ${identifier} in ${region} does not exist or has no endpoint; is the ${slot === 'green' ? `${env.config.name}-green` : `${env.config.name}-database`} stack deployed?`);
  }
  const endpoint = env.config.writerDns.target === 'global-writer' && global?.Endpoint ? global.Endpoint : cluster.Endpoint;
  return moveNameFor(env, deps, io, timeoutMs, { side: slot, target: endpoint, pinTo: cluster.DBClusterArn, comment: `bluegreen cutover to ${identifier}` });
}

/**
 * The last step of a blue/green rollback: the writer's name back to the live database's writer, as
 * the writer-DNS handlers would set it, and unpinned, so that they keep it there again.
 */
export async function pointNameAtLive(env: OperatedEnvironment, deps: Deps, io: Io, timeoutMs: number): Promise<NameMove> {
  requireBlueGreen(env);
  const slot = env.config.blueGreen.live;
  const live = liveDatabase(env.config);
  const writers = (await Promise.all(env.config.regions.map((region) => regionView(env, deps, region, live)))).filter((view) => view.role === 'writer');
  if (writers.length !== 1 || !writers[0].nameTarget) {
    throw refuse(`${slot}'s global cluster ${live.globalClusterIdentifier} has ${writers.length} writers (${writers.map((view) => view.region).join(', ') || 'none'}): the name stays where it is; see "writer-dns ${env.config.name}"`);
  }
  return moveNameFor(env, deps, io, timeoutMs, { side: slot, target: writers[0].nameTarget, comment: `bluegreen rollback to ${writers[0].cluster}` });
}

/** Why an environment has no database for a blue/green run to move the writes to, and what to change. */
export function noTargetProblem(env: OperatedEnvironment): string {
  const { name, blueGreen } = env.config;
  return blueGreen.live === 'green'
    ? `${name} says green is live (blueGreen.live: 'green') and blue is not made from it (blueSource: 'new'), so its writer-DNS handlers follow green and would take the name back: ` +
      `during a rollback window of the cut-over to green, set live to 'blue' and deploy ${name}-database first; for the next upgrade, make blue from green (blueSource: 'green'); nothing was changed`
    : `${name} has no green to move the writes to (blueGreen.green, with greenClusters: 'kept'); nothing was changed`;
}

/** Where a cut-over's or a rollback's last step puts the name, once nameStepProblem found none: the run's target, or back on the live database. */
export function nameDestinationSlot(env: OperatedEnvironment, direction: 'cutover' | 'rollback'): DatabaseSlot {
  return direction === 'cutover' ? upgradeTargetSlot(env.config)! : env.config.blueGreen.live;
}

/** Whether a cluster (by identifier, or ARN) is one of a slot's members. */
function isMemberOf(env: OperatedEnvironment, slot: DatabaseSlot, cluster: string): boolean {
  const identifier = cluster.replace(/^arn:[^:]+:rds:[^:]+:[^:]+:cluster:/, '');
  const members = slotIdentifiers(env.config.globalClusterIdentifier, slot);
  return env.config.regions.some((region) => members.member(region) === identifier);
}

/**
 * Why the name step of a cut-over or rollback could not follow, read before anything moves: the
 * configuration has no copy to move to, an operator pinned the name, or (rollback) the name is not
 * where the cut-over put it. A rollback moves the name to the live database: right only while the
 * name is pinned to the target by the cut-over (or already back, unpinned); a pin on the live
 * database means blueGreen.live was changed to the new database after the cut-over.
 */
export async function nameStepProblem(env: OperatedEnvironment, deps: Deps, direction: 'cutover' | 'rollback'): Promise<string | undefined> {
  const slot = upgradeTargetSlot(env.config);
  if (!slot) return noTargetProblem(env);
  const { pin } = await readNameAndPin(env, deps, await writerZoneId(env, deps));
  if (!pin) return undefined;
  if (!pin.by.startsWith(BLUEGREEN_PINNER)) return `${operatorPinProblem(env, pin)}; nothing was changed`;
  if (direction === 'cutover' || isMemberOf(env, slot, pin.cluster)) return undefined;
  const { name, blueGreen } = env.config;
  return `${env.recordName} is pinned to ${pin.cluster} by ${pin.by}, and ${name} says that is the live database (blueGreen.live: '${blueGreen.live}'): ` +
    `the cut-over is already taken as done, and its handlers would keep the name there; set live back and deploy ${name}-database first; nothing was changed`;
}

/**
 * Whether the URLs reach the slots the configuration says the writes move between: the database
 * they move from (BLUEGREEN_BLUE_URL) must be a member of the live database, the copy
 * (BLUEGREEN_GREEN_URL) a member of the run's target. Otherwise the name, which follows the
 * configuration, would go the wrong way (typically: blueGreen.live changed during the rollback
 * window). Servers that are not Aurora cannot tell; the check is then left to the name's pin.
 */
export function reachedSlotsProblem(env: OperatedEnvironment, reached: ReachedInstances): string | undefined {
  const target = upgradeTargetSlot(env.config);
  if (!target) return noTargetProblem(env);
  const { name, globalClusterIdentifier, blueGreen } = env.config;
  const expected = [['BLUEGREEN_BLUE_URL', 'the database the writes move from', reached.blue, blueGreen.live], ['BLUEGREEN_GREEN_URL', 'the copy', reached.green, target]] as const;
  for (const [variable, role, instance, slot] of expected) {
    // Instances are named <cluster>-<n>.
    if (!instance || isMemberOf(env, slot, instance.replace(/-\d+$/, ''))) continue;
    return `${variable}, ${role}, reaches instance ${instance}, which is no member of ${slot} (${slotIdentifiers(globalClusterIdentifier, slot).globalClusterIdentifier}), ` +
      `but ${name} says ${blueGreen.live} is live (blueGreen.live: '${blueGreen.live}') and ${target} is the copy: the name, which follows the configuration, would go the wrong way; ` +
      `if live was changed during the rollback window, set it back and deploy ${name}-database first; nothing was changed`;
  }
  return undefined;
}

function operatorPinProblem(env: OperatedEnvironment, pin: Pin): string {
  return `${env.recordName} is pinned to ${pin.cluster} by ${pin.by} at ${pin.at}: an operator's choice this step does not override (see "writer-dns ${env.config.name}")`;
}
