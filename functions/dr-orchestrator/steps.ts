/**
 * What each task of a disaster-recovery run does, as functions of the event and the AWS clients, so
 * the logic is tested without the network. Success is judged from the service's own truth (for
 * Aurora: the target member is the writer and no switchover or failover is in flight), never from a
 * cluster status or a sleep. Every start first looks: a resource already where the plan wants it is
 * skipped, so a re-run after a partial failure finishes only the rest.
 */
import {
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  FailoverGlobalClusterCommand,
  GlobalCluster,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { DescribeGlobalReplicationGroupsCommand, ElastiCacheClient, FailoverGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { normalizeDnsName } from '../../modules/core/names';
import { describeCluster, describeGlobalCluster, readRecord } from '../writer-dns/aws';
import { PlanError, PlannedResource, REFERENCE, ResourceType, parsePlan } from './plan';

export interface StepDeps {
  /** An RDS client for a Region; calls go to the Region of the cluster they concern, never to a fixed one. */
  rds(region: string): RDSClient;
  /** An ElastiCache client for a Region. */
  elasticache(region: string): ElastiCacheClient;
  /** Route 53 (its control plane is in us-east-1: the one step that reads it says so in the README). */
  route53(): Route53Client;
  /** The Region the run is started in: the surviving one. */
  readonly runRegion: string;
  now(): number;
  /** Resolves `!Import name` and `!Ssm /path` in the run's Region; undefined when it does not resolve. */
  resolve(kind: 'Import' | 'Ssm', name: string): Promise<string | undefined>;
  /** The function that runs resources of each type. */
  readonly functionArns: Readonly<Partial<Record<ResourceType, string>>>;
}

export interface RunnableResource extends PlannedResource {
  readonly functionArn: string;
}

/** A resource's state between the start and its checks. */
export interface Progress {
  readonly name: string;
  readonly type: string;
  readonly layer: number;
  readonly startedAt: string;
  readonly deadline: string;
  readonly done: boolean;
  readonly timedOut: boolean;
  /** It was already in the wanted state when the run started it. */
  readonly skipped: boolean;
  readonly finishedAt?: string;
  /** What was seen last, in words. */
  readonly detail: string;
  /** Set when timed out: the line the run fails with. */
  readonly cause?: string;
}

/** `validate`: the plan, its references resolved and each resource given the function that runs it. */
export async function validatePlan(payload: unknown, deps: StepDeps): Promise<{ layers: Array<{ layer: number; resources: RunnableResource[] }> }> {
  const plan = parsePlan(payload);
  const problems: string[] = [];
  const layers = [];
  for (const { layer, resources } of plan.layers) {
    const runnable: RunnableResource[] = [];
    for (const resource of resources) {
      const functionArn = deps.functionArns[resource.type];
      if (!functionArn) problems.push(`resource ${JSON.stringify(resource.name)}: type ${resource.type} cannot run here yet`);
      const parameters = await resolveReferences(resource.parameters, deps, (reference) => problems.push(`resource ${JSON.stringify(resource.name)}: ${reference} does not resolve in ${deps.runRegion}`));
      runnable.push({ ...resource, parameters, functionArn: functionArn ?? '' });
    }
    layers.push({ layer, resources: runnable });
  }
  if (problems.length > 0) throw new PlanError(problems);
  return { layers };
}

async function resolveReferences(parameters: Readonly<Record<string, unknown>>, deps: StepDeps, unresolved: (reference: string) => void): Promise<Record<string, unknown>> {
  const resolveValue = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(resolveValue));
    if (typeof value !== 'string') return value;
    const match = REFERENCE.exec(value);
    if (!match) return value;
    const resolved = await deps.resolve(match[1] as 'Import' | 'Ssm', match[2]);
    if (resolved === undefined) unresolved(value);
    return resolved ?? value;
  };
  return Object.fromEntries(await Promise.all(Object.entries(parameters).map(async ([key, value]) => [key, await resolveValue(value)])));
}

interface Observation {
  readonly done: boolean;
  readonly detail: string;
}

interface Executor {
  /** Where the resource stands now. */
  observe(parameters: Record<string, unknown>, deps: StepDeps): Promise<Observation>;
  /** Starts the change; called only when `observe` said not done. */
  begin(parameters: Record<string, unknown>, deps: StepDeps): Promise<void>;
}

/** The member cluster an Aurora step targets: its ARN and Region, from an ARN or an identifier and Region. */
function auroraTarget(parameters: Record<string, unknown>, deps: StepDeps): { region: string; matches(arn: string): boolean; id: string } {
  const given = String(parameters.DBClusterIdentifier);
  const arn = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:cluster:(.+)$/.exec(given);
  if (arn) return { region: arn[1], id: arn[2], matches: (candidate) => candidate === given };
  const region = String(parameters.Region ?? deps.runRegion);
  return { region, id: given, matches: (candidate) => candidate.endsWith(`:cluster:${given}`) && candidate.split(':')[3] === region };
}

async function globalCluster(rds: RDSClient, identifier: string): Promise<GlobalCluster> {
  const cluster = await describeGlobalCluster(rds, identifier);
  if (!cluster) throw new Error(`global cluster ${identifier} not found`);
  return cluster;
}

/** The target's entry among the global cluster's members, or undefined when it is not (or no longer) one. */
function memberOf(cluster: GlobalCluster | undefined, target: ReturnType<typeof auroraTarget>) {
  return cluster?.GlobalClusterMembers?.find((candidate) => candidate.DBClusterArn && target.matches(candidate.DBClusterArn));
}

/** Switchover or managed failover: done when the target is the writer and nothing is in flight. */
function moveWriter(kind: 'switchover' | 'failover'): Executor {
  return {
    async observe(parameters, deps) {
      const target = auroraTarget(parameters, deps);
      const cluster = await globalCluster(deps.rds(target.region), String(parameters.GlobalClusterIdentifier));
      const member = memberOf(cluster, target);
      if (!member) throw new Error(`${target.id} in ${target.region} is not a member of global cluster ${parameters.GlobalClusterIdentifier}`);
      const inFlight = cluster.FailoverState?.Status;
      const writer = cluster.GlobalClusterMembers?.find((candidate) => candidate.IsWriter)?.DBClusterArn ?? 'none';
      return {
        done: Boolean(member.IsWriter) && !inFlight,
        detail: inFlight ? `${cluster.FailoverState?.IsDataLossAllowed ? 'failover' : 'switchover'} ${inFlight}` : `writer ${writer}`,
      };
    },
    async begin(parameters, deps) {
      const target = auroraTarget(parameters, deps);
      const rds = deps.rds(target.region);
      const cluster = await globalCluster(rds, String(parameters.GlobalClusterIdentifier));
      const arn = memberOf(cluster, target)!.DBClusterArn!;
      // A re-run that finds this very move in flight waits for it rather than starting another.
      if (cluster.FailoverState?.ToDbClusterArn === arn) return;
      if (cluster.FailoverState?.Status) throw new Error(`another switchover or failover of ${parameters.GlobalClusterIdentifier} is in flight (${cluster.FailoverState.Status})`);
      const identifier = String(parameters.GlobalClusterIdentifier);
      await rds.send(kind === 'switchover'
        ? new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: identifier, TargetDbClusterIdentifier: arn })
        : new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: identifier, TargetDbClusterIdentifier: arn, AllowDataLoss: true }));
    },
  };
}

/** Detach-and-promote: done when the target has left the global cluster and is available on its own. */
const detachAndPromote: Executor = {
  async observe(parameters, deps) {
    const target = auroraTarget(parameters, deps);
    const rds = deps.rds(target.region);
    // A global cluster that is gone has no members; any other error of the call is the step's error.
    if (memberOf(await describeGlobalCluster(rds, String(parameters.GlobalClusterIdentifier)), target)) {
      return { done: false, detail: `${target.id} is still a member of ${parameters.GlobalClusterIdentifier}` };
    }
    const status = (await describeCluster(rds, target.id))?.Status ?? 'missing';
    return { done: status === 'available', detail: `${target.id} detached, ${status}` };
  },
  async begin(parameters, deps) {
    const target = auroraTarget(parameters, deps);
    const rds = deps.rds(target.region);
    const cluster = await globalCluster(rds, String(parameters.GlobalClusterIdentifier));
    const arn = memberOf(cluster, target)?.DBClusterArn;
    if (arn) await rds.send(new RemoveFromGlobalClusterCommand({ GlobalClusterIdentifier: String(parameters.GlobalClusterIdentifier), DbClusterIdentifier: arn }));
  },
};

/** An RDS instance's Region and identifier, from its ARN or from its identifier and Region. */
function rdsInstance(parameters: Record<string, unknown>, deps: StepDeps): { region: string; id: string } {
  const given = String(parameters.RDSInstanceIdentifier);
  const arn = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:db:(.+)$/.exec(given);
  return arn ? { region: arn[1], id: arn[2] } : { region: String(parameters.Region ?? deps.runRegion), id: given };
}

/** Read-replica promotion: done when the instance has no source any more and is available. */
const promoteReadReplica: Executor = {
  async observe(parameters, deps) {
    const { region, id } = rdsInstance(parameters, deps);
    const { DBInstances } = await deps.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const instance = DBInstances?.[0];
    if (!instance) throw new Error(`DB instance ${id} not found in ${region}`);
    const source = instance.ReadReplicaSourceDBInstanceIdentifier;
    return { done: !source && instance.DBInstanceStatus === 'available', detail: `${id} ${instance.DBInstanceStatus}${source ? `, replica of ${source}` : ', standalone'}` };
  },
  async begin(parameters, deps) {
    const { region, id } = rdsInstance(parameters, deps);
    const { DBInstances } = await deps.rds(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    // A re-run that finds the promotion under way (no source, not yet available) only waits.
    if (DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier) await deps.rds(region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: id }));
  },
};

/** Waiting for this project's writer DNS name: done when it names the global cluster's writer (its cluster endpoint, or the global writer endpoint). */
const waitForWriterDns: Executor = {
  async observe(parameters, deps) {
    const cluster = await globalCluster(deps.rds(deps.runRegion), String(parameters.GlobalClusterIdentifier));
    const writerArn = cluster.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn;
    if (!writerArn || cluster.FailoverState?.Status) return { done: false, detail: writerArn ? `${cluster.FailoverState?.Status} in flight` : 'no writer yet' };
    const [, , , region, , , id] = writerArn.split(':');
    const writer = await describeCluster(deps.rds(region), id);
    const record = await readRecord(deps.route53(), String(parameters.HostedZoneId), normalizeDnsName(String(parameters.RecordName)));
    const target = normalizeDnsName(record?.target ?? '');
    const wanted = [writer?.Endpoint, cluster.Endpoint].filter((name): name is string => Boolean(name)).map(normalizeDnsName);
    return { done: wanted.includes(target), detail: `${parameters.RecordName} names ${target || 'nothing'}, the writer is ${wanted[0] ?? 'unknown'}` };
  },
  async begin() {
    // Nothing to change: the writer-DNS handlers move the name; this step only waits for them.
  },
};

/** ElastiCache global datastore failover: done when the named group is PRIMARY and the datastore is available again. */
const failoverElastiCache: Executor = {
  async observe(parameters, deps) {
    const region = String(parameters.PrimaryRegion);
    const { GlobalReplicationGroups } = await deps.elasticache(region).send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: String(parameters.GlobalReplicationGroupId), ShowMemberInfo: true }));
    const group = GlobalReplicationGroups?.[0];
    if (!group) throw new Error(`global datastore ${parameters.GlobalReplicationGroupId} not found`);
    const member = group.Members?.find((candidate) => candidate.ReplicationGroupId === parameters.PrimaryReplicationGroupId && candidate.ReplicationGroupRegion === region);
    if (!member) throw new Error(`${parameters.PrimaryReplicationGroupId} in ${region} is not a member of global datastore ${parameters.GlobalReplicationGroupId}`);
    return { done: member.Role === 'PRIMARY' && group.Status === 'available', detail: `${member.ReplicationGroupId} is ${member.Role?.toLowerCase()}, the datastore ${group.Status}` };
  },
  async begin(parameters, deps) {
    const region = String(parameters.PrimaryRegion);
    const client = deps.elasticache(region);
    const { GlobalReplicationGroups } = await client.send(new DescribeGlobalReplicationGroupsCommand({ GlobalReplicationGroupId: String(parameters.GlobalReplicationGroupId), ShowMemberInfo: true }));
    // A failover already under way (the datastore not available) is waited for, not started twice.
    if (GlobalReplicationGroups?.[0]?.Status !== 'available') return;
    await client.send(new FailoverGlobalReplicationGroupCommand({
      GlobalReplicationGroupId: String(parameters.GlobalReplicationGroupId),
      PrimaryRegion: region,
      PrimaryReplicationGroupId: String(parameters.PrimaryReplicationGroupId),
    }));
  },
};

/** The executors this release runs; validatePlan refuses a plan with any other type before it starts. */
export const EXECUTORS: Partial<Record<ResourceType, Executor>> = {
  AuroraGlobalSwitchover: moveWriter('switchover'),
  AuroraGlobalFailover: moveWriter('failover'),
  AuroraDetachAndPromote: detachAndPromote,
  PromoteRDSReadReplica: promoteReadReplica,
  FailoverElastiCacheCluster: failoverElastiCache,
  WaitForWriterDns: waitForWriterDns,
};

export interface ResourceEvent {
  readonly layer: number;
  readonly resource: RunnableResource;
  readonly progress?: Progress;
}

function executorOf(resource: RunnableResource): Executor {
  const executor = EXECUTORS[resource.type];
  if (!executor) throw new Error(`type ${resource.type} cannot run here yet`);
  return executor;
}

/** `start`: looks first; starts the change only when the resource is not already where the plan wants it. */
export async function startResource(event: ResourceEvent, deps: StepDeps): Promise<Progress> {
  const { resource, layer } = event;
  const executor = executorOf(resource);
  const startedAt = new Date(deps.now()).toISOString();
  const base = { name: resource.name, type: resource.type, layer, startedAt, deadline: new Date(deps.now() + resource.timeoutSeconds * 1000).toISOString() };
  const before = await executor.observe({ ...resource.parameters }, deps);
  if (before.done) return { ...base, done: true, timedOut: false, skipped: true, finishedAt: startedAt, detail: `already done: ${before.detail}` };
  await executor.begin({ ...resource.parameters }, deps);
  return { ...base, done: false, timedOut: false, skipped: false, detail: `started: ${before.detail}` };
}

/** `check`: done, still going, or past the deadline (then with the cause the run fails with). */
export async function checkResource(event: ResourceEvent, deps: StepDeps): Promise<Progress> {
  const { resource, layer, progress } = event;
  if (!progress) throw new Error('check needs the progress of start');
  const now = await executorOf(resource).observe({ ...resource.parameters }, deps);
  if (now.done) return { ...progress, done: true, finishedAt: new Date(deps.now()).toISOString(), detail: now.detail };
  if (deps.now() > Date.parse(progress.deadline)) {
    return {
      ...progress,
      timedOut: true,
      detail: now.detail,
      cause: `layer ${layer}, resource ${resource.name} (${resource.givenType}): not done within ${resource.timeoutSeconds} s; last seen: ${now.detail}`,
    };
  }
  return { ...progress, detail: now.detail };
}

export interface RunSummary {
  readonly startedAt: string;
  readonly finishedAt: string;
  /** From the run's start until its last resource was done: the recovery time. */
  readonly recoveryTimeSeconds: number;
  readonly layers: ReadonlyArray<{ layer: number; startedAt: string; finishedAt: string; seconds: number; resources: readonly Progress[] }>;
}

/** `record`: the loop over layers moves on, keeping the finished layer's results. */
export function recordLayer(loop: { index: number; count: number; done: readonly (readonly Progress[])[] }, layer: readonly Progress[]) {
  return { index: loop.index + 1, count: loop.count, done: [...loop.done, layer] };
}

/** `summarize`: the start and end of every resource and layer, and the total. */
export function summarize(startedAt: string, layers: readonly (readonly Progress[])[], now: number): RunSummary {
  const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
  const summary = layers.map((resources) => {
    const start = resources.map((r) => r.startedAt).sort()[0];
    const end = resources.map((r) => r.finishedAt ?? r.startedAt).sort().at(-1)!;
    return { layer: resources[0]?.layer ?? 0, startedAt: start, finishedAt: end, seconds: seconds(start, end), resources };
  });
  const finishedAt = summary.map((layer) => layer.finishedAt).sort().at(-1) ?? new Date(now).toISOString();
  return { startedAt, finishedAt, recoveryTimeSeconds: seconds(startedAt, finishedAt), layers: summary };
}
