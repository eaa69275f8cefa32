/**
 * Lambda entry point of every DR orchestrator task. The same bundle runs as several functions, each
 * with its own role: `DR_TASK` says which one this is, and it refuses every action of another task,
 * so a role with only one task's permissions is never asked for another's.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadTaskConfig } from './config';
import { RESOURCE_TASKS } from './permissions';
import { formatFinding } from './finding';
import { evaluatePlan, evaluateStoredPlans, ReadinessDeps } from './readiness';
import { putReadiness, replicationLagSeconds, simulatePrincipal, storedPlans } from './readiness-aws';
import { resolveImport, resolveSsm } from './resolve';
import { askForApproval, checkResource, recordLayer, startResource, summarize, validatePlan } from './steps';

const config = loadTaskConfig(process.env);
const perRegion = <T>(create: (region: string) => T) => {
  const clients = new Map<string, T>();
  return (region: string) => clients.get(region) ?? clients.set(region, create(region)).get(region)!;
};
const rds = perRegion((region) => new RDSClient({ region, maxAttempts: 5 }));
const cloudwatch = perRegion((region) => new CloudWatchClient({ region, maxAttempts: 5 }));
const cloudformation = new CloudFormationClient({ region: config.region, maxAttempts: 5 });
const ssm = new SSMClient({ region: config.region, maxAttempts: 5 });
const sns = new SNSClient({ region: config.region, maxAttempts: 5 });
// A custom function's failure is its own answer, never retried behind the plan's back.
const lambda = new LambdaClient({ region: config.region, maxAttempts: 1 });
const route53 = new Route53Client({ region: 'us-east-1', maxAttempts: 5 });
const iam = new IAMClient({ region: 'us-east-1', maxAttempts: 5 });

const deps: ReadinessDeps = {
  rds,
  elasticache: perRegion((region) => new ElastiCacheClient({ region, maxAttempts: 5 })),
  route53: () => route53,
  sns: () => sns,
  lambda: () => lambda,
  runRegion: config.region,
  now: () => Date.now(),
  resolve: (kind, name) => (kind === 'Import' ? resolveImport(cloudformation, name) : resolveSsm(ssm, name)),
  functionArns: config.functionArns,
  approvalTopics: config.approvalTopics,
  customFunctions: config.customFunctions,
  roleArns: config.roleArns,
  replicationLagSeconds: (region, cluster) => replicationLagSeconds(cloudwatch(region), cluster, Date.now()),
  maxReplicationLagSeconds: config.readiness.maxLagSeconds,
  simulate: (role, actions, arns, region) => simulatePrincipal(iam, role, actions, arns, region),
};

/** The task that runs each resource type, by task name. */
const TYPE_OF_TASK = Object.fromEntries(Object.entries(RESOURCE_TASKS).map(([type, { task }]) => [task, type]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Event = { action?: string } & Record<string, any>;

const ACTIONS: Record<string, readonly string[]> = { plan: ['validate'], summary: ['record', 'summarize'], evaluate: ['evaluate', 'schedule'], approval: ['start', 'check', 'ask'] };

export async function handler(event: Event): Promise<unknown> {
  // EventBridge's schedule sends its own event, without an action.
  const action = event.action ?? (event['detail-type'] === 'Scheduled Event' ? 'schedule' : '');
  const allowed = ACTIONS[config.task] ?? ['start', 'check'];
  if (!allowed.includes(action)) throw new Error(`the ${config.task} function does not do ${JSON.stringify(action)}`);
  if (event.resource && TYPE_OF_TASK[config.task] !== event.resource.type) throw new Error(`the ${config.task} function does not run ${event.resource.type} resources`);
  switch (action) {
    case 'validate':
      return validatePlan(event.plan, deps);
    case 'start':
      return startResource(event as never, deps);
    case 'check':
      return checkResource(event as never, deps);
    case 'ask':
      return askForApproval(event as never, deps);
    case 'record':
      return recordLayer(event.loop, event.layer);
    case 'summarize':
      return summarize(event.startedAt, event.layers, deps.now());
    case 'evaluate':
      return { findings: await evaluatePlan(event.plan, deps) };
    default:
      return evaluateSchedule();
  }
}

/** Every stored plan evaluated, each finding logged, and the counts put where the readiness alarm looks. */
async function evaluateSchedule() {
  const results = await evaluateStoredPlans(await storedPlans(ssm, config.readiness.plansPath), deps);
  for (const { plan, findings } of results) {
    for (const finding of findings) console.log(JSON.stringify({ level: 'WARN', message: 'plan not ready', plan, region: config.region, finding: formatFinding(finding) }));
  }
  const counts = results.map(({ plan, findings }) => ({ plan, problems: findings.length }));
  await putReadiness(cloudwatch(config.region), config.readiness.namespace, config.readiness.stateMachine, counts);
  console.log(JSON.stringify({ level: 'INFO', message: 'readiness evaluated', region: config.region, plans: counts }));
  return { plans: results };
}
