/**
 * What each task of a disaster-recovery run does, as functions of the event and the AWS clients, so
 * the logic is tested without the network. Success is judged from the service's own truth (for
 * Aurora: the target member is the writer and no switchover or failover is in flight), never from a
 * cluster status or a sleep. Every start first looks: a resource already where the plan wants it is
 * skipped, so a re-run after a partial failure finishes only the rest.
 */
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateGlobalClusterCommand,
  DBInstance,
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  FailoverGlobalClusterCommand,
  GlobalCluster,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeGlobalReplicationGroupsCommand, ElastiCacheClient, FailoverGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { normalizeDnsName } from '../../modules/core/names';
import { describeCluster, describeGlobalCluster, readRecord } from '../writer-dns/aws';
import { regionOfArn } from '../writer-dns/decide';
import { CUSTOM_LAMBDA_MAX_TIMEOUT, PlanError, PlannedResource, REFERENCE, ResourceType, parsePlan } from './plan';

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
  /** SNS in the run's Region, for approval requests. */
  sns(): SNSClient;
  /** Lambda in the run's Region, for custom functions. */
  lambda(): LambdaClient;
  /** Where a ManualApproval without a TopicArn asks, and the other topics it may ask on. */
  readonly approvalTopics: { readonly default?: string; readonly allowed: readonly string[] };
  /** ARNs (a trailing `*` matches any rest) of the functions a CustomLambda may invoke. */
  readonly customFunctions: readonly string[];
  /** Readiness only: the latest AuroraGlobalDBReplicationLag of a secondary, in seconds; undefined when there are no figures. */
  replicationLagSeconds?(region: string, clusterIdentifier: string): Promise<number | undefined>;
  /** Readiness only: the lag above which a move is reported as not ready. @default 60 */
  readonly maxReplicationLagSeconds?: number;
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

/** The plan with its references resolved and each resource given its function, and every problem found doing that. */
export async function preparePlan(payload: unknown, deps: StepDeps): Promise<{ layers: Array<{ layer: number; resources: RunnableResource[] }>; problems: string[] }> {
  const plan = parsePlan(payload);
  const problems: string[] = [];
  const layers = [];
  for (const { layer, resources } of plan.layers) {
    const runnable: RunnableResource[] = [];
    for (const resource of resources) {
      const named = `resource ${JSON.stringify(resource.name)}`;
      const functionArn = deps.functionArns[resource.type];
      if (!functionArn) problems.push(`${named}: type ${resource.type} cannot run here yet`);
      const parameters = await resolveReferences(resource.parameters, deps, (reference) => problems.push(`${named}: ${reference} does not resolve in ${deps.runRegion}`));
      problems.push(...permitted(resource.type, parameters, deps).map((problem) => `${named}: ${problem}`));
      runnable.push({ ...resource, parameters, functionArn: functionArn ?? '' });
    }
    layers.push({ layer, resources: runnable });
  }
  return { layers, problems };
}

/** `validate`: the plan, its references resolved and each resource given the function that runs it; throws PlanError on any problem. */
export async function validatePlan(payload: unknown, deps: StepDeps): Promise<{ layers: Array<{ layer: number; resources: RunnableResource[] }> }> {
  const { layers, problems } = await preparePlan(payload, deps);
  if (problems.length > 0) throw new PlanError(problems);
  return { layers };
}

/** True when `pattern` (an ARN, a trailing `*` matching any rest) matches `arn`. */
function arnMatches(pattern: string, arn: string): boolean {
  return pattern.endsWith('*') ? arn.startsWith(pattern.slice(0, -1)) : arn === pattern;
}

/**
 * What the orchestrator's roles allow beyond a resource's own type: a custom function it may invoke,
 * a topic it may ask on. Fills in the default approval topic.
 */
function permitted(type: ResourceType, parameters: Record<string, unknown>, deps: StepDeps): string[] {
  if (type === 'ManualApproval') {
    parameters.TopicArn ??= deps.approvalTopics.default;
    const topic = parameters.TopicArn as string | undefined;
    if (!topic) return ['TopicArn is not given and the orchestrator has no approval topic'];
    const allowed = [deps.approvalTopics.default, ...deps.approvalTopics.allowed].filter((arn): arn is string => Boolean(arn));
    return allowed.some((pattern) => arnMatches(pattern, topic)) ? [] : [`the orchestrator may not publish to ${topic} (allowed: ${allowed.join(', ') || 'none'}; add it to the construct's approvalTopicArns)`];
  }
  if (type === 'CustomLambda') {
    const name = String(parameters.FunctionName);
    const matches = (pattern: string) => (name.startsWith('arn:')
      ? arnMatches(pattern, name)
      : regionOfArn(pattern) === deps.runRegion && arnMatches(pattern.split(':').slice(6).join(':'), name));
    return deps.customFunctions.some(matches) ? [] : [`the orchestrator may not invoke ${name} (allowed: ${deps.customFunctions.join(', ') || 'none'}; add it to the construct's customFunctionArns)`];
  }
  return [];
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
  /** Starts the change; called only when `observe` said not done. A change made at once says where it ended. */
  begin(parameters: Record<string, unknown>, deps: StepDeps, timeoutSeconds: number): Promise<void | Observation>;
  /** For a change made in stages: takes the next stage that can be taken now; called on each check that is not done. */
  advance?(parameters: Record<string, unknown>, deps: StepDeps): Promise<void>;
  /** What would make a run of this resource fail now, looking only; [] when it would not. */
  assess(parameters: Record<string, unknown>, deps: StepDeps): Promise<string[]>;
}

/** The member cluster an Aurora step targets: its ARN and Region, from an ARN or an identifier and Region. */
function auroraTarget(parameters: Record<string, unknown>, deps: StepDeps): { region: string; matches(arn: string): boolean; id: string } {
  const given = String(parameters.DBClusterIdentifier);
  const arn = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:cluster:(.+)$/.exec(given);
  if (arn) return { region: arn[1], id: arn[2], matches: (candidate) => candidate === given };
  const region = String(parameters.Region ?? deps.runRegion);
  return { region, id: given, matches: (candidate) => candidate.endsWith(`:cluster:${given}`) && regionOfArn(candidate) === region };
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
    async assess(parameters, deps) {
      const target = auroraTarget(parameters, deps);
      const rds = deps.rds(target.region);
      const global = await describeGlobalCluster(rds, String(parameters.GlobalClusterIdentifier));
      if (!global) return [`global cluster ${parameters.GlobalClusterIdentifier} not found from ${target.region}`];
      const member = memberOf(global, target);
      if (!member) return [`${target.id} in ${target.region} is not a member of global cluster ${parameters.GlobalClusterIdentifier}`];
      const problems = global.FailoverState?.Status ? [`a switchover or failover of ${parameters.GlobalClusterIdentifier} is in flight (${global.FailoverState.Status})`] : [];
      if (member.IsWriter) return problems;
      problems.push(...await targetClusterProblems(rds, target.id, target.region));
      const writerArn = global.GlobalClusterMembers?.find((candidate) => candidate.IsWriter)?.DBClusterArn;
      const targetVersion = (await describeCluster(rds, target.id))?.EngineVersion;
      // A managed move needs the same engine version on both sides; the writer's own Region may be the one down, so the global cluster's version stands in for it.
      const writerVersion = kind === 'switchover' && writerArn
        ? ((await describeCluster(deps.rds(regionOfArn(writerArn)), writerArn).catch(() => undefined))?.EngineVersion ?? global.EngineVersion)
        : global.EngineVersion;
      if (targetVersion && writerVersion && targetVersion !== writerVersion) {
        problems.push(`engine versions differ: the writer runs ${writerVersion}, ${target.id} runs ${targetVersion}; a managed ${kind} needs the same version (upgrade the secondaries first)`);
      }
      problems.push(...await lagProblems(deps, target.region, target.id));
      return problems;
    },
  };
}

/** A target cluster that exists, is available and has an instance to become the writer. */
async function targetClusterProblems(rds: RDSClient, id: string, region: string): Promise<string[]> {
  const cluster = await describeCluster(rds, id);
  if (!cluster) return [`cluster ${id} not found in ${region}`];
  const problems = cluster.Status === 'available' ? [] : [`cluster ${id} is ${cluster.Status}, not available`];
  if ((cluster.DBClusterMembers ?? []).length === 0) problems.push(`cluster ${id} has no DB instances: it would become a writer nobody can connect to`);
  return problems;
}

/** Replication lag of a secondary over the bound, or no lag figures at all. */
async function lagProblems(deps: StepDeps, region: string, id: string): Promise<string[]> {
  if (!deps.replicationLagSeconds) return [];
  const bound = deps.maxReplicationLagSeconds ?? 60;
  let lag: number | undefined;
  try {
    lag = await deps.replicationLagSeconds(region, id);
  } catch (error) {
    return [`the replication lag of ${id} could not be read: ${(error as Error).name}: ${(error as Error).message}`];
  }
  if (lag === undefined) return [`no AuroraGlobalDBReplicationLag figures for ${id} in ${region} in the last 10 minutes: is it replicating?`];
  return lag > bound ? [`${id} lags ${lag} s behind the writer, more than the ${bound} s allowed`] : [];
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
  async assess(parameters, deps) {
    const target = auroraTarget(parameters, deps);
    const rds = deps.rds(target.region);
    const global = await describeGlobalCluster(rds, String(parameters.GlobalClusterIdentifier));
    if (global && !memberOf(global, target)) return [`${target.id} in ${target.region} is not a member of global cluster ${parameters.GlobalClusterIdentifier}`];
    return targetClusterProblems(rds, target.id, target.region);
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
    const instance = await describeInstance(deps.rds(region), id);
    if (!instance) throw new Error(`DB instance ${id} not found in ${region}`);
    const source = instance.ReadReplicaSourceDBInstanceIdentifier;
    return { done: !source && instance.DBInstanceStatus === 'available', detail: `${id} ${instance.DBInstanceStatus}${source ? `, replica of ${source}` : ', standalone'}` };
  },
  async begin(parameters, deps) {
    const { region, id } = rdsInstance(parameters, deps);
    // A re-run that finds the promotion under way (no source, not yet available) only waits.
    if ((await describeInstance(deps.rds(region), id))?.ReadReplicaSourceDBInstanceIdentifier) await deps.rds(region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: id }));
  },
  async assess(parameters, deps) {
    const { region, id } = rdsInstance(parameters, deps);
    const instance = await describeInstance(deps.rds(region), id);
    if (!instance) return [`DB instance ${id} not found in ${region}`];
    return instance.DBInstanceStatus === 'available' ? [] : [`DB instance ${id} is ${instance.DBInstanceStatus}, not available`];
  },
};

async function describeInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch (error) {
    if ((error as Error).name === 'DBInstanceNotFoundFault') return undefined;
    throw error;
  }
}

/** Waiting for this project's writer DNS name: done when it names the global cluster's writer (its cluster endpoint, or the global writer endpoint). */
const waitForWriterDns: Executor = {
  async observe(parameters, deps) {
    const cluster = await globalCluster(deps.rds(deps.runRegion), String(parameters.GlobalClusterIdentifier));
    const writerArn = cluster.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn;
    if (!writerArn || cluster.FailoverState?.Status) return { done: false, detail: writerArn ? `${cluster.FailoverState?.Status} in flight` : 'no writer yet' };
    const writer = await describeCluster(deps.rds(regionOfArn(writerArn)), writerArn);
    const record = await readRecord(deps.route53(), String(parameters.HostedZoneId), normalizeDnsName(String(parameters.RecordName)));
    const target = normalizeDnsName(record?.target ?? '');
    const wanted = [writer?.Endpoint, cluster.Endpoint].filter((name): name is string => Boolean(name)).map(normalizeDnsName);
    return { done: wanted.includes(target), detail: `${parameters.RecordName} names ${target || 'nothing'}, the writer is ${wanted[0] ?? 'unknown'}` };
  },
  async begin() {
    // Nothing to change: the writer-DNS handlers move the name; this step only waits for them.
  },
  async assess(parameters, deps) {
    const problems = (await describeGlobalCluster(deps.rds(deps.runRegion), String(parameters.GlobalClusterIdentifier))) ? [] : [`global cluster ${parameters.GlobalClusterIdentifier} not found`];
    const record = await readRecord(deps.route53(), String(parameters.HostedZoneId), normalizeDnsName(String(parameters.RecordName)));
    if (!record) problems.push(`there is no CNAME ${parameters.RecordName} in zone ${parameters.HostedZoneId}`);
    return problems;
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
  async assess(parameters, deps) {
    try {
      await failoverElastiCache.observe(parameters, deps);
      return [];
    } catch (error) {
      if ((error as Error).name !== 'GlobalReplicationGroupNotFoundFault' && !/not found|not a member/.test((error as Error).message)) throw error;
      return [(error as Error).message];
    }
  },
};


/** The secondary's instances: `<cluster>-1` up to `<cluster>-<Instances>`. */
const instanceIds = (parameters: Record<string, unknown>) => Array.from({ length: Number(parameters.Instances ?? 1) }, (_, index) => `${parameters.DBClusterIdentifier}-${index + 1}`);

/**
 * Failback into a Region: the global cluster (from the promoted writer, when it is gone), then the
 * secondary cluster, then its instances, one stage per look. Done when the cluster is an available
 * member of the global cluster and every instance is available. A cluster of that name that is not a
 * member (the old, diverged one) is never reused or deleted: the step fails and says so.
 */
const createSecondary: Executor = {
  async observe(parameters, deps) {
    const region = String(parameters.Region);
    const global = String(parameters.GlobalClusterIdentifier);
    const rds = deps.rds(region);
    const cluster = await describeCluster(rds, String(parameters.DBClusterIdentifier));
    if (!cluster) return { done: false, detail: `${parameters.DBClusterIdentifier} not created yet in ${region}` };
    if (cluster.GlobalClusterIdentifier !== global) {
      throw new Error(`${parameters.DBClusterIdentifier} in ${region} exists but is not a member of global cluster ${global}; give the secondary another DBClusterIdentifier or delete that cluster first (it is never reused: its data may have diverged)`);
    }
    const instances = await Promise.all(instanceIds(parameters).map(async (id) => ({ id, status: (await describeInstance(rds, id))?.DBInstanceStatus ?? 'not created' })));
    const waiting = instances.filter((instance) => instance.status !== 'available');
    return {
      done: cluster.Status === 'available' && waiting.length === 0,
      detail: `${cluster.DBClusterIdentifier} ${cluster.Status}${waiting.length > 0 ? `, ${waiting.map((instance) => `${instance.id} ${instance.status}`).join(', ')}` : `, ${instances.length} instance(s) available`}`,
    };
  },
  async begin(parameters, deps) {
    await createSecondary.advance!(parameters, deps);
  },
  async advance(parameters, deps) {
    const region = String(parameters.Region);
    const identifier = String(parameters.GlobalClusterIdentifier);
    const rds = deps.rds(region);
    let global = await describeGlobalCluster(rds, identifier);
    if (!global) {
      const source = String(parameters.SourceDBClusterArn ?? '');
      if (!source) throw new Error(`global cluster ${identifier} does not exist and no SourceDBClusterArn was given to create it from`);
      await deps.rds(regionOfArn(source)).send(new CreateGlobalClusterCommand({ GlobalClusterIdentifier: identifier, SourceDBClusterIdentifier: source }));
      return;
    }
    if (!global.GlobalClusterMembers?.some((member) => member.IsWriter)) return; // the global cluster is still taking in its writer
    const cluster = await describeCluster(rds, String(parameters.DBClusterIdentifier));
    if (!cluster) {
      await rds.send(new CreateDBClusterCommand({
        DBClusterIdentifier: String(parameters.DBClusterIdentifier),
        GlobalClusterIdentifier: identifier,
        Engine: global.Engine,
        EngineVersion: global.EngineVersion,
        DBSubnetGroupName: String(parameters.DBSubnetGroupName),
        VpcSecurityGroupIds: parameters.VpcSecurityGroupIds as string[],
        KmsKeyId: String(parameters.KmsKeyId),
        StorageEncrypted: true,
        DBClusterParameterGroupName: parameters.DBClusterParameterGroupName as string | undefined,
        DeletionProtection: true,
        CopyTagsToSnapshot: true,
      }));
      return;
    }
    if (cluster.Status !== 'available') return;
    for (const id of instanceIds(parameters)) {
      if (await describeInstance(rds, id)) continue;
      await rds.send(new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBClusterIdentifier: cluster.DBClusterIdentifier,
        Engine: cluster.Engine,
        DBInstanceClass: String(parameters.DBInstanceClass),
        DBParameterGroupName: parameters.DBParameterGroupName as string | undefined,
      }));
    }
  },
  async assess(parameters, deps) {
    const region = String(parameters.Region);
    const rds = deps.rds(region);
    const problems: string[] = [];
    const global = await describeGlobalCluster(rds, String(parameters.GlobalClusterIdentifier));
    const source = parameters.SourceDBClusterArn as string | undefined;
    if (!global && !source) problems.push(`global cluster ${parameters.GlobalClusterIdentifier} does not exist and no SourceDBClusterArn is given to create it from`);
    if (!global && source && !(await describeCluster(deps.rds(regionOfArn(source)), source))) problems.push(`source cluster ${source} not found`);
    const existing = await describeCluster(rds, String(parameters.DBClusterIdentifier));
    if (existing && existing.GlobalClusterIdentifier !== parameters.GlobalClusterIdentifier) problems.push(`${parameters.DBClusterIdentifier} already exists in ${region} outside global cluster ${parameters.GlobalClusterIdentifier}`);
    return problems;
  },
};

/** Failback for RDS: a cross-Region read replica; done when it is available and replicates from the source. */
const createReadReplica: Executor = {
  async observe(parameters, deps) {
    const region = String(parameters.Region);
    const id = String(parameters.DBInstanceIdentifier);
    const instance = await describeInstance(deps.rds(region), id);
    if (!instance) return { done: false, detail: `${id} not created yet in ${region}` };
    if (instance.ReadReplicaSourceDBInstanceIdentifier !== parameters.SourceDBInstanceArn) {
      throw new Error(`${id} in ${region} exists but is not a read replica of ${parameters.SourceDBInstanceArn} (its source: ${instance.ReadReplicaSourceDBInstanceIdentifier ?? 'none'}); give the replica another DBInstanceIdentifier`);
    }
    return { done: instance.DBInstanceStatus === 'available', detail: `${id} ${instance.DBInstanceStatus}, replica of ${parameters.SourceDBInstanceArn}` };
  },
  async begin(parameters, deps) {
    const source = String(parameters.SourceDBInstanceArn);
    await deps.rds(String(parameters.Region)).send(new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: String(parameters.DBInstanceIdentifier),
      // Outside GovCloud and China a cross-Region replica needs only the source's ARN (no pre-signed URL).
      SourceDBInstanceIdentifier: source,
      DBSubnetGroupName: parameters.DBSubnetGroupName as string | undefined,
      KmsKeyId: parameters.KmsKeyId as string | undefined,
      DBInstanceClass: parameters.DBInstanceClass as string | undefined,
      CopyTagsToSnapshot: true,
      DeletionProtection: true,
    }));
  },
  async assess(parameters, deps) {
    const source = String(parameters.SourceDBInstanceArn);
    const problems = (await describeInstance(deps.rds(regionOfArn(source)), source)) ? [] : [`source instance ${source} not found`];
    try {
      await createReadReplica.observe(parameters, deps);
    } catch (error) {
      problems.push((error as Error).message);
    }
    return problems;
  },
};

/** Manual approval: the state machine waits for the task token; start and check only keep the times. A re-run asks again. */
const approval: Executor = {
  async observe() {
    return { done: false, detail: 'waiting for approval' };
  },
  async begin() {
    // The state machine publishes the request after this start.
  },
  async assess() {
    return [];
  },
};

/**
 * A custom function, invoked and waited for within the resource's timeout; its error is the step's
 * error, named as the function named it. A re-run invokes it again: it must be safe to repeat.
 */
const customFunction: Executor = {
  async observe() {
    return { done: false, detail: 'not invoked yet' };
  },
  async begin(parameters, deps, timeoutSeconds) {
    const seconds = Math.min(timeoutSeconds, CUSTOM_LAMBDA_MAX_TIMEOUT);
    let answer;
    try {
      answer = await deps.lambda().send(
        new InvokeCommand({ FunctionName: String(parameters.FunctionName), Payload: new TextEncoder().encode(JSON.stringify(parameters.Payload ?? {})) }),
        { abortSignal: AbortSignal.timeout(seconds * 1000) },
      );
    } catch (error) {
      if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') throw Object.assign(new Error(`${parameters.FunctionName} did not return within ${seconds} s`), { name: 'ResourceTimedOut' });
      throw error;
    }
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    if (answer.FunctionError) {
      const failure = (text ? JSON.parse(text) : {}) as { errorType?: string; errorMessage?: string };
      throw Object.assign(new Error(failure.errorMessage ?? answer.FunctionError), { name: failure.errorType ?? 'FunctionError' });
    }
    return { done: true, detail: `${parameters.FunctionName} returned ${text.length > 200 ? `${text.slice(0, 200)}...` : text || 'nothing'}` };
  },
  async assess() {
    return [];
  },
};

/** The request a ManualApproval publishes: what to approve, and the two commands that answer it. */
export function approvalMessage(event: ResourceEvent & { token: string; execution?: string }, region: string): string {
  const token = JSON.stringify(event.token);
  return [
    `DR run ${event.execution ?? ''}, layer ${event.layer}, resource ${event.resource.name}:`,
    String(event.resource.parameters.Message),
    '',
    `Approve: aws stepfunctions send-task-success --region ${region} --task-token ${token} --task-output '{"approvedBy":"<you>"}'`,
    `Reject:  aws stepfunctions send-task-failure --region ${region} --task-token ${token} --error Rejected --cause '<why>'`,
    `It times out after ${event.resource.timeoutSeconds} s and the run fails.`,
  ].join('\n');
}

/** `ask`: publishes the approval request with the task token the run waits on. */
export async function askForApproval(event: ResourceEvent & { token: string; execution?: string }, deps: StepDeps): Promise<void> {
  await deps.sns().send(new PublishCommand({
    TopicArn: String(event.resource.parameters.TopicArn),
    Subject: `DR run waits for approval: ${event.resource.name}`.slice(0, 99),
    Message: approvalMessage(event, deps.runRegion),
  }));
}

/** What starts, checks and assesses each type. */
export const EXECUTORS: Readonly<Record<ResourceType, Executor>> = {
  CreateAuroraSecondaryDBCluster: createSecondary,
  CreateRDSReadReplica: createReadReplica,
  ManualApproval: approval,
  CustomLambda: customFunction,
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
  /** After an approval: what the approver sent with SendTaskSuccess. */
  readonly outcome?: unknown;
}

function executorOf(resource: RunnableResource): Executor {
  return EXECUTORS[resource.type];
}

/** `start`: looks first; starts the change only when the resource is not already where the plan wants it. */
export async function startResource(event: ResourceEvent, deps: StepDeps): Promise<Progress> {
  const { resource, layer } = event;
  const executor = executorOf(resource);
  const startedAt = new Date(deps.now()).toISOString();
  const base = { name: resource.name, type: resource.type, layer, startedAt, deadline: new Date(deps.now() + resource.timeoutSeconds * 1000).toISOString() };
  const before = await executor.observe({ ...resource.parameters }, deps);
  if (before.done) return { ...base, done: true, timedOut: false, skipped: true, finishedAt: startedAt, detail: `already done: ${before.detail}` };
  const ended = await executor.begin({ ...resource.parameters }, deps, resource.timeoutSeconds);
  if (ended?.done) return { ...base, done: true, timedOut: false, skipped: false, finishedAt: new Date(deps.now()).toISOString(), detail: ended.detail };
  return { ...base, done: false, timedOut: false, skipped: false, detail: `started: ${before.detail}` };
}

/** `check`: done, still going (taking the next stage of a change made in stages), or past the deadline (then with the cause the run fails with). */
export async function checkResource(event: ResourceEvent, deps: StepDeps): Promise<Progress> {
  const { resource, layer, progress } = event;
  if (!progress) throw new Error('check needs the progress of start');
  if (event.outcome !== undefined) {
    const said = JSON.stringify(event.outcome);
    return { ...progress, done: true, finishedAt: new Date(deps.now()).toISOString(), detail: `approved: ${said.length > 200 ? `${said.slice(0, 200)}...` : said}` };
  }
  const executor = executorOf(resource);
  const now = await executor.observe({ ...resource.parameters }, deps);
  if (now.done) return { ...progress, done: true, finishedAt: new Date(deps.now()).toISOString(), detail: now.detail };
  if (deps.now() > Date.parse(progress.deadline)) {
    return {
      ...progress,
      timedOut: true,
      detail: now.detail,
      cause: `layer ${layer}, resource ${resource.name} (${resource.givenType}): not done within ${resource.timeoutSeconds} s; last seen: ${now.detail}`,
    };
  }
  await executor.advance?.({ ...resource.parameters }, deps);
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
