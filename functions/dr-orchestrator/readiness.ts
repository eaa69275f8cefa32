/**
 * Readiness: would a plan run now? It looks and never changes anything: the plan's schema and
 * references, what each resource's step would find (the target missing or without instances, engine
 * versions that forbid the move, replication lag over the bound), and whether each task's role is
 * allowed every action its code calls on the plan's resources. The scheduled evaluation and
 * `dr run --dry-run` both call it.
 */
import type { Finding } from './finding';
import { PlanError, ResourceType } from './plan';
import { RESOURCE_TASKS, type ArnKind } from './permissions';
import { EXECUTORS, RunnableResource, StepDeps, preparePlan } from './steps';

export interface SimulatedDecision {
  readonly action: string;
  /** `allowed`, `implicitDeny` or `explicitDeny`. */
  readonly decision: string;
  readonly resource?: string;
}

export interface ReadinessDeps extends StepDeps {
  /** The role of the function that runs each type. */
  readonly roleArns: Readonly<Partial<Record<ResourceType, string>>>;
  /** IAM's policy simulation for a role (SimulatePrincipalPolicy); undefined skips the permission check. */
  simulate?(roleArn: string, actions: readonly string[], resourceArns: readonly string[], region: string): Promise<SimulatedDecision[]>;
}

/** Every reason the plan would fail if it were run now in `deps.runRegion`; [] when it would not. */
export async function evaluatePlan(payload: unknown, deps: ReadinessDeps): Promise<Finding[]> {
  let prepared: Awaited<ReturnType<typeof preparePlan>>;
  try {
    prepared = await preparePlan(payload, deps);
  } catch (error) {
    if (error instanceof PlanError) return error.problems.map((problem) => ({ problem }));
    throw error;
  }
  const findings: Finding[] = prepared.problems.map((problem) => ({ problem }));
  const resources = prepared.layers.flatMap((layer) => layer.resources);
  const perResource = await Promise.all(resources.map(async (resource) => {
    const about = { resource: resource.name, type: resource.givenType };
    const problems = await EXECUTORS[resource.type].assess({ ...resource.parameters }, deps)
      .catch((error: Error) => [`could not be assessed: ${error.name}: ${error.message}`]);
    const denied = await permissionProblems(resource, deps)
      .catch((error: Error) => [`permissions could not be checked: ${error.name}: ${error.message}`]);
    return [...problems, ...denied].map((problem) => ({ ...about, problem }));
  }));
  return [...findings, ...perResource.flat()];
}

/** Actions the resource's role is not allowed on the resource's ARNs, simulated by IAM. */
async function permissionProblems(resource: RunnableResource, deps: ReadinessDeps): Promise<string[]> {
  if (!deps.simulate) return [];
  const { statements } = RESOURCE_TASKS[resource.type];
  if (statements.length === 0) return [];
  const roleArn = deps.roleArns[resource.type];
  if (!roleArn) return [`no role is known for ${resource.type}`];
  const [, partition, , , account] = roleArn.split(':');
  const region = String(resource.parameters.Region ?? resource.parameters.PrimaryRegion ?? deps.runRegion);
  const problems: string[] = [];
  for (const statement of statements) {
    const arns = [...new Set(statement.on.flatMap((kind) => arnsOf(kind, resource.parameters, { partition, account, region })))];
    if (arns.length === 0) continue;
    for (const denied of (await deps.simulate(roleArn, statement.actions, arns, region)).filter((result) => result.decision !== 'allowed')) {
      problems.push(`role ${roleArn.split('/').at(-1)} is not allowed ${denied.action}${denied.resource ? ` on ${denied.resource}` : ''} (${denied.decision})`);
    }
  }
  return problems;
}

/** The ARNs of one kind a resource's parameters name; [] when they name none of that kind. */
export function arnsOf(kind: ArnKind, parameters: Readonly<Record<string, unknown>>, at: { partition: string; account: string; region: string }): string[] {
  const { partition, account, region } = at;
  const given = (key: string) => (typeof parameters[key] === 'string' ? (parameters[key] as string) : undefined);
  const arnOr = (value: string | undefined, build: (id: string) => string) => (value === undefined ? [] : [value.startsWith('arn:') ? value : build(value)]);
  const rds = (type: string) => (id: string) => `arn:${partition}:rds:${region}:${account}:${type}:${id}`;
  switch (kind) {
    case 'global-cluster':
      return arnOr(given('GlobalClusterIdentifier'), (id) => `arn:${partition}:rds::${account}:global-cluster:${id}`);
    case 'cluster':
      return [...arnOr(given('DBClusterIdentifier'), rds('cluster')), ...arnOr(given('SourceDBClusterArn'), rds('cluster'))];
    case 'db':
      return [...arnOr(given('RDSInstanceIdentifier') ?? given('DBInstanceIdentifier'), rds('db')), ...arnOr(given('SourceDBInstanceArn'), rds('db')),
        ...(given('DBInstanceClass') && given('DBClusterIdentifier') ? [rds('db')(`${given('DBClusterIdentifier')}-1`)] : [])];
    case 'subgrp':
      return arnOr(given('DBSubnetGroupName'), rds('subgrp'));
    case 'cluster-pg':
      return arnOr(given('DBClusterParameterGroupName'), rds('cluster-pg'));
    case 'pg':
      return arnOr(given('DBParameterGroupName'), rds('pg'));
    case 'globalreplicationgroup':
      return arnOr(given('GlobalReplicationGroupId'), (id) => `arn:${partition}:elasticache::${account}:globalreplicationgroup:${id}`);
    case 'replicationgroup':
      return arnOr(given('PrimaryReplicationGroupId'), (id) => `arn:${partition}:elasticache:${region}:${account}:replicationgroup:${id}`);
    case 'hostedzone':
      return arnOr(given('HostedZoneId'), (id) => `arn:${partition}:route53:::hostedzone/${id}`);
    case 'kms-key':
      return arnOr(given('KmsKeyId'), (id) => `arn:${partition}:kms:${region}:${account}:key/${id}`);
    case 'sns-topic':
      return arnOr(given('TopicArn'), (name) => `arn:${partition}:sns:${region}:${account}:${name}`);
    case 'lambda-function':
      return arnOr(given('FunctionName'), (name) => `arn:${partition}:lambda:${region}:${account}:function:${name}`);
  }
}

/** Every stored plan evaluated; a plan that is not JSON is a finding, not an error of the evaluation. */
export async function evaluateStoredPlans(plans: ReadonlyArray<{ name: string; text: string }>, deps: ReadinessDeps): Promise<Array<{ plan: string; findings: Finding[] }>> {
  return Promise.all(plans.map(async ({ name, text }) => {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      return { plan: name, findings: [{ problem: `the stored plan is not JSON: ${(error as Error).message}` }] };
    }
    return { plan: name, findings: await evaluatePlan(payload, deps) };
  }));
}
