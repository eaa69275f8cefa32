/**
 * A disaster-recovery plan: ordered layers of resources, each of a `resourceType` with its
 * parameters. The same schema validates a plan in the CLI and at the start of a run, before the
 * first AWS call. The seed sample's payload shape (`StatePayload`, `layer`, `resources`) and its type
 * names are accepted; each seed name maps to one of this project's types (see SEED_TYPE_NAMES).
 */
import { z } from 'zod';
import { drParameterNames } from '../../modules/core/names';
import { didYouMean } from '../../modules/core/suggest';
import { formatIssuePath, plainErrorMap } from '../../modules/core/zod-messages';

/**
 * A parameter value that is resolved before the first action: `!Import name` (a CloudFormation export
 * of the run's Region, as in the seed) or `!Ssm /path` (an SSM parameter of the run's Region).
 */
export const REFERENCE = /^!(Import|Ssm)\s+(\S+)$/;

/** A string parameter, or a reference that must resolve to one. */
const text = z.string().min(1, 'must not be empty');

const auroraTarget = {
  /** The global cluster. */
  GlobalClusterIdentifier: text,
  /** The member cluster that becomes the writer: its ARN, or its identifier with `Region`. */
  DBClusterIdentifier: text,
  /** Region of that cluster when DBClusterIdentifier is not an ARN. @default the run's Region */
  Region: text.optional(),
};

/** What each type needs. Every object is strict: a misspelt parameter is an error, not ignored. */
export const RESOURCE_TYPES = {
  /** Planned move of the writer with no data loss: SwitchoverGlobalCluster. */
  AuroraGlobalSwitchover: z.object(auroraTarget).strict(),
  /** Managed unplanned failover: FailoverGlobalCluster with AllowDataLoss, which must be said (a JSON true: the sample read the string "False" as true). */
  AuroraGlobalFailover: z.object({ ...auroraTarget, AllowDataLoss: z.literal(true, { error: 'must be true: a managed failover can lose the writes not yet replicated' }) }).strict(),
  /** When managed failover is impossible: RemoveFromGlobalCluster in the target's Region, which then writes on its own. */
  AuroraDetachAndPromote: z.object(auroraTarget).strict(),
  /** Promote an RDS read replica to a standalone writer (PromoteReadReplica). */
  PromoteRDSReadReplica: z.object({
    /** The replica: its ARN, or its identifier with `Region`. */
    RDSInstanceIdentifier: text,
    Region: text.optional(),
    /** Accepted for payloads written for the sample, which passed it; not used. */
    TargetClusterIdentifier: text.optional(),
  }).strict(),
  /** Make the replication group in `PrimaryRegion` the primary of an ElastiCache global datastore (FailoverGlobalReplicationGroup). */
  FailoverElastiCacheCluster: z.object({
    GlobalReplicationGroupId: text,
    PrimaryRegion: text,
    PrimaryReplicationGroupId: text,
  }).strict(),
  /**
   * Failback: a Region (back) as an Aurora secondary, typically after a detach-and-promote: the global
   * cluster is created from `SourceDBClusterArn` when it does not exist, then the secondary cluster and
   * its instances in `Region` (CreateGlobalCluster, CreateDBCluster, CreateDBInstance).
   */
  CreateAuroraSecondaryDBCluster: z.object({
    GlobalClusterIdentifier: text,
    /** The writer the global cluster is created from when it does not exist (the promoted cluster's ARN). @default the global cluster must exist */
    SourceDBClusterArn: text.optional(),
    /** The new secondary cluster; its instances are `<DBClusterIdentifier>-1`, `-2`, ... */
    DBClusterIdentifier: text,
    Region: text,
    DBSubnetGroupName: text,
    VpcSecurityGroupIds: z.array(text).min(1, 'needs at least one security group'),
    /** The key, in `Region`, that encrypts the secondary. */
    KmsKeyId: text,
    DBClusterParameterGroupName: text.optional(),
    DBParameterGroupName: text.optional(),
    DBInstanceClass: text,
    /** @default 1 */
    Instances: z.number().int().min(1).max(16).default(1),
  }).strict(),
  /** Failback: a cross-Region RDS read replica of `SourceDBInstanceArn` in `Region` (CreateDBInstanceReadReplica). */
  CreateRDSReadReplica: z.object({
    SourceDBInstanceArn: text,
    DBInstanceIdentifier: text,
    Region: text,
    /** @default the source's subnet group name must exist in `Region` */
    DBSubnetGroupName: text.optional(),
    /** Required when the source is encrypted: a key in `Region`. */
    KmsKeyId: text.optional(),
    /** @default the source's class */
    DBInstanceClass: text.optional(),
  }).strict(),
  /**
   * A person approves before the run goes on: the message, with the commands that approve or reject,
   * goes to the topic, and the run waits (up to the timeout) for SendTaskSuccess or SendTaskFailure.
   */
  ManualApproval: z.object({
    Message: text,
    /** @default the orchestrator's approval topic */
    TopicArn: text.optional(),
  }).strict(),
  /** A Lambda function of your own, invoked by the state machine with `Payload`; done when it returns without error. */
  CustomLambda: z.object({
    /** Its name or ARN; it must be one the orchestrator was allowed to invoke. */
    FunctionName: text,
    /** @default {} */
    Payload: z.record(z.string(), z.unknown()).default({}),
  }).strict(),
  /** Wait until this project's writer DNS name names the global cluster's writer. */
  WaitForWriterDns: z.object({ GlobalClusterIdentifier: text, HostedZoneId: text, RecordName: text }).strict(),
} as const;

export type ResourceType = keyof typeof RESOURCE_TYPES;

/** The sample's type names, and what each does here. */
export const SEED_TYPE_NAMES: Readonly<Record<string, ResourceType>> = {
  // The sample called FailoverGlobalCluster without AllowDataLoss, then slept 60 s; a planned move is a switchover.
  PlannedFailoverAurora: 'AuroraGlobalSwitchover',
  // The sample detached the secondary and let it promote itself.
  UnPlannedFailoverAurora: 'AuroraDetachAndPromote',
  PromoteRDSReadReplica: 'PromoteRDSReadReplica',
  FailoverElastiCacheCluster: 'FailoverElastiCacheCluster',
  CreateAuroraSecondaryDBCluster: 'CreateAuroraSecondaryDBCluster',
  CreateRDSReadReplica: 'CreateRDSReadReplica',
};

/** How long a resource may take before the run fails, by type, in seconds; `timeoutSeconds` overrides it. */
export const DEFAULT_TIMEOUT_SECONDS: Readonly<Record<ResourceType, number>> = {
  AuroraGlobalSwitchover: 1800,
  AuroraGlobalFailover: 1800,
  AuroraDetachAndPromote: 1800,
  PromoteRDSReadReplica: 3600,
  FailoverElastiCacheCluster: 1800,
  CreateAuroraSecondaryDBCluster: 7200,
  CreateRDSReadReplica: 7200,
  ManualApproval: 86_400,
  CustomLambda: 890,
  WaitForWriterDns: 600,
};

/** The longest a custom function's step may wait, in seconds. */
export const CUSTOM_LAMBDA_MAX_TIMEOUT = 890;

const ALL_TYPE_NAMES = [...Object.keys(RESOURCE_TYPES), ...Object.keys(SEED_TYPE_NAMES)];

const resource = z.object({
  resourceType: z.string(),
  /** Unique in the plan; names the resource in progress, timings and errors. */
  resourceName: z.string().min(1, 'must not be empty'),
  parameters: z.record(z.string(), z.unknown()),
  /** Fail the run when the resource takes longer. @default per type (DEFAULT_TIMEOUT_SECONDS) */
  timeoutSeconds: z.number().int().min(30).max(86_400).optional(),
  /** Seconds between checks. @default 15 */
  pollSeconds: z.number().int().min(1).max(300).optional(),
}).strict();

const payload = z.object({
  StatePayload: z.array(z.object({
    /** Layers run in ascending order; the resources of one layer run in parallel. */
    layer: z.number().int().min(1),
    resources: z.array(resource).min(1, 'a layer needs at least one resource'),
  }).strict()).min(1, 'a plan needs at least one layer'),
}).strict();

export interface PlannedResource {
  readonly name: string;
  /** This project's type, after mapping a seed name. */
  readonly type: ResourceType;
  /** The name the payload used (a seed name, or the same as `type`). */
  readonly givenType: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
}

export interface Plan {
  readonly layers: ReadonlyArray<{ readonly layer: number; readonly resources: readonly PlannedResource[] }>;
}

/** A plan that breaks the rules: every problem, each with the path of its field. */
export class PlanError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the plan is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

const pathOf = (path: readonly PropertyKey[]) => formatIssuePath(path, '(plan)');

/** Validates a payload and returns it as a plan in layer order, or throws PlanError listing every problem. */
export function parsePlan(input: unknown): Plan {
  const parsed = payload.safeParse(input, { error: plainErrorMap });
  if (!parsed.success) throw new PlanError(parsed.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`));
  const problems: string[] = [];
  const layers = parsed.data.StatePayload.map((layer, layerIndex) => ({
    layer: layer.layer,
    resources: layer.resources.flatMap((entry, resourceIndex): PlannedResource[] => {
      const at = `StatePayload[${layerIndex}].resources[${resourceIndex}]`;
      const type = (entry.resourceType in RESOURCE_TYPES ? entry.resourceType : SEED_TYPE_NAMES[entry.resourceType]) as ResourceType | undefined;
      if (!type) {
        problems.push(`${at}.resourceType: ${JSON.stringify(entry.resourceType)} is not a resource type${didYouMean(entry.resourceType, ALL_TYPE_NAMES)} (types: ${Object.keys(RESOURCE_TYPES).join(', ')}; the sample's names are accepted too)`);
        return [];
      }
      const parameters = RESOURCE_TYPES[type].safeParse(entry.parameters, { error: plainErrorMap });
      if (!parameters.success) {
        problems.push(...parameters.error.issues.map((issue) => `${at}.parameters.${pathOf(issue.path)}: ${issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')} is not a parameter of ${entry.resourceType}` : issue.message}`));
        return [];
      }
      return [{
        name: entry.resourceName,
        type,
        givenType: entry.resourceType,
        parameters: parameters.data,
        timeoutSeconds: entry.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS[type],
        pollSeconds: entry.pollSeconds ?? 15,
      }];
    }),
  }));
  for (const entry of layers.flatMap((layer) => layer.resources)) {
    // Lambda runs a function for 900 s at most, and the step that waits for it needs a margin.
    if (entry.type === 'CustomLambda' && entry.timeoutSeconds > CUSTOM_LAMBDA_MAX_TIMEOUT) problems.push(`resource ${JSON.stringify(entry.name)}: timeoutSeconds of a CustomLambda is at most ${CUSTOM_LAMBDA_MAX_TIMEOUT} (Lambda's limit, less the margin to report)`);
  }
  const layerNumbers = layers.map((layer) => layer.layer);
  layerNumbers.forEach((number, index) => {
    if (layerNumbers.indexOf(number) !== index) problems.push(`StatePayload[${index}].layer: layer ${number} is given twice`);
  });
  const seen = new Map<string, string>();
  for (const entry of layers.flatMap((layer) => layer.resources)) {
    const key = `${entry.type} ${JSON.stringify(entry.parameters)}`;
    const twin = seen.get(key);
    if (twin !== undefined) problems.push(`resource ${JSON.stringify(entry.name)} repeats ${JSON.stringify(twin)}: the same ${entry.type} with the same parameters`);
    else seen.set(key, entry.name);
  }
  const names = layers.flatMap((layer) => layer.resources.map((entry) => entry.name));
  names.forEach((name, index) => {
    if (names.indexOf(name) !== index) problems.push(`resourceName ${JSON.stringify(name)} is used twice; each resource needs its own name`);
  });
  if (problems.length > 0) throw new PlanError(problems);
  return { layers: [...layers].sort((a, b) => a.layer - b.layer) };
}

/**
 * An environment's own plan: move its global cluster's writer to `to` (one of its Regions), naming
 * the cluster through the SSM parameters the DR stack publishes in every Region.
 */
export function ownPlan(env: { name: string; globalClusterIdentifier: string; regions: readonly string[] }, to: string, kind: 'switchover' | 'failover') {
  const parameters = drParameterNames(env.name, env.regions);
  return {
    StatePayload: [{
      layer: 1,
      resources: [{
        resourceType: kind === 'switchover' ? 'AuroraGlobalSwitchover' : 'AuroraGlobalFailover',
        resourceName: `${kind} of ${env.globalClusterIdentifier} to ${to}`,
        parameters: {
          GlobalClusterIdentifier: `!Ssm ${parameters.globalClusterIdentifier}`,
          DBClusterIdentifier: `!Ssm ${parameters.clusterArns[to]}`,
          ...(kind === 'failover' && { AllowDataLoss: true }),
        },
      }],
    }],
  };
}
