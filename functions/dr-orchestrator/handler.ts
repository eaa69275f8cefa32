/**
 * Lambda entry point of every DR orchestrator task. The same bundle runs as several functions, each
 * with its own role: `DR_TASK` says which one this is, and it refuses every action of another task,
 * so a role with only one task's permissions is never asked for another's.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadTaskConfig } from './config';
import { resolveImport, resolveSsm } from './resolve';
import { StepDeps, checkResource, recordLayer, startResource, summarize, validatePlan } from './steps';

const config = loadTaskConfig(process.env);
const rdsClients = new Map<string, RDSClient>();
const elasticacheClients = new Map<string, ElastiCacheClient>();
const cloudformation = new CloudFormationClient({ region: config.region, maxAttempts: 5 });
const ssm = new SSMClient({ region: config.region, maxAttempts: 5 });
const route53 = new Route53Client({ region: 'us-east-1', maxAttempts: 5 });

const deps: StepDeps = {
  rds: (region) => rdsClients.get(region) ?? rdsClients.set(region, new RDSClient({ region, maxAttempts: 5 })).get(region)!,
  elasticache: (region) => elasticacheClients.get(region) ?? elasticacheClients.set(region, new ElastiCacheClient({ region, maxAttempts: 5 })).get(region)!,
  route53: () => route53,
  runRegion: config.region,
  now: () => Date.now(),
  resolve: (kind, name) => (kind === 'Import' ? resolveImport(cloudformation, name) : resolveSsm(ssm, name)),
  functionArns: config.functionArns,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Event = { action: string } & Record<string, any>;

export async function handler(event: Event): Promise<unknown> {
  const allowed = config.task === 'plan' ? ['validate'] : config.task === 'summary' ? ['record', 'summarize'] : ['start', 'check'];
  if (!allowed.includes(event.action)) throw new Error(`the ${config.task} function does not do ${JSON.stringify(event.action)}`);
  if (event.resource && event.resource.type !== config.task) throw new Error(`the ${config.task} function does not run ${event.resource.type} resources`);
  switch (event.action) {
    case 'validate':
      return validatePlan(event.plan, deps);
    case 'start':
      return startResource(event as never, deps);
    case 'check':
      return checkResource(event as never, deps);
    case 'record':
      return recordLayer(event.loop, event.layer);
    default:
      return summarize(event.startedAt, event.layers, deps.now());
  }
}
