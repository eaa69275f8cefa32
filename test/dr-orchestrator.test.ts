import { DescribeGlobalReplicationGroupsCommand, ElastiCacheClient, FailoverGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateGlobalClusterCommand,
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validator: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require('asl-validator');
import { StateMachine } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, ListExportsCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { evaluatePlan, evaluateStoredPlans, ReadinessDeps, SimulatedDecision } from '../functions/dr-orchestrator/readiness';
import { putReadiness, replicationLagSeconds, simulatePrincipal, storedPlans } from '../functions/dr-orchestrator/readiness-aws';
import { RESOURCE_TASKS, actionsOf } from '../functions/dr-orchestrator/permissions';
import { loadTaskConfig } from '../functions/dr-orchestrator/config';
import { PlanError, parsePlan } from '../functions/dr-orchestrator/plan';
import { resolveImport, resolveSsm } from '../functions/dr-orchestrator/resolve';
import { EXECUTORS, StepDeps, askForApproval, checkResource, recordLayer, startResource, summarize, validatePlan } from '../functions/dr-orchestrator/steps';
import { TASK_STATES, orchestratorDefinition } from '../modules/dr-orchestrator/definition';

const ACCOUNT = '123456789012';
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const arn = (region: string, cluster: string) => `arn:aws:rds:${region}:${ACCOUNT}:cluster:${cluster}`;
const APPROVALS = `arn:aws:sns:${CENTRAL}:${ACCOUNT}:keycloak-prod-dr-approvals`;

const definition = orchestratorDefinition({
  planFunctionArn: `arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:dr-plan`,
  summaryFunctionArn: `arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:dr-summary`,
});

const switchover = (name: string, global: string, region = CENTRAL, extra = {}) => ({
  resourceType: 'AuroraGlobalSwitchover',
  resourceName: name,
  parameters: { GlobalClusterIdentifier: global, DBClusterIdentifier: arn(region, `${global}-${region}`) },
  ...extra,
});

/**
 * Aurora as the run sees it: global clusters with a writer each, a switchover or failover that is in
 * flight for `settleAfter` looks and then done, and a Region whose APIs may all fail.
 */
class FakeAurora {
  readonly calls: Array<{ region: string; command: string; global?: string }> = [];
  readonly writers = new Map<string, string>();
  private readonly inFlight = new Map<string, { to: string; looksLeft: number; dataLoss: boolean }>();
  readonly detached = new Set<string>();
  downRegions = new Set<string>();
  failSwitchoverOf = new Set<string>();
  readonly promotions = new Map<string, { looksLeft: number }>();
  /** What the writer DNS name points at, as the writer-DNS handlers would have left it. */
  recordTarget = '';
  /** Clusters and instances that do not exist until a step creates them, and those it created (available after `settleAfter` looks). */
  readonly absent = new Set<string>();
  readonly created = new Map<string, { region: string; looksLeft: number; global?: string; source?: string; cluster?: string }>();
  /** Engine version of each member cluster, by identifier. @default 16.6 */
  readonly engineVersions = new Map<string, string>();
  readonly invoked: Array<{ FunctionName?: string; Payload: unknown }> = [];
  /** What the custom function does with its payload. */
  customFunction: (payload: unknown) => Promise<unknown> = async () => ({ ok: true });
  readonly published: Array<{ TopicArn?: string; Subject?: string; Message?: string }> = [];
  readonly creations: Array<{ region: string; command: string; input: Record<string, unknown> }> = [];
  /** Member clusters without any DB instance. */
  readonly withoutInstances = new Set<string>();

  constructor(private readonly settleAfter = 2) {}

  /** The global datastore `cache` with its primary group in `cachePrimary`, failing over in `settleAfter` looks. */
  cachePrimary = WEST;
  private cacheFlight?: { to: string; looksLeft: number };

  cacheClient(region: string): ElastiCacheClient {
    const client = new ElastiCacheClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const mock = mockClient(client);
    mock.on(DescribeGlobalReplicationGroupsCommand).callsFake(({ GlobalReplicationGroupId: id }) => {
      this.calls.push({ region, command: 'DescribeGlobalReplicationGroups' });
      if (this.cacheFlight && --this.cacheFlight.looksLeft <= 0) {
        this.cachePrimary = this.cacheFlight.to;
        this.cacheFlight = undefined;
      }
      return {
        GlobalReplicationGroups: [{
          GlobalReplicationGroupId: id,
          Status: this.cacheFlight ? 'modifying' : 'available',
          Members: [WEST, CENTRAL].map((r) => ({ ReplicationGroupId: `cache-${r}`, ReplicationGroupRegion: r, Role: r === this.cachePrimary ? 'PRIMARY' : 'SECONDARY', Status: 'associated' })),
        }],
      };
    });
    mock.on(FailoverGlobalReplicationGroupCommand).callsFake(({ PrimaryRegion: to }) => {
      this.calls.push({ region, command: 'FailoverGlobalReplicationGroup' });
      this.cacheFlight = { to, looksLeft: this.settleAfter };
      return {};
    });
    return client;
  }

  cluster(global: string, writerRegion = WEST): this {
    this.writers.set(global, arn(writerRegion, `${global}-${writerRegion}`));
    return this;
  }

  client(region: string): RDSClient {
    const client = new RDSClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const mock = mockClient(client);
    const guard = (command: string, global?: string) => {
      this.calls.push({ region, command, global });
      if (this.downRegions.has(region)) throw Object.assign(new Error(`connect ETIMEDOUT rds.${region}.amazonaws.com`), { name: 'TimeoutError' });
    };
    const notFound = (name: string, message: string) => Object.assign(new Error(message), { name });
    /** A created resource, which turns available after its looks. */
    const look = (id: string) => {
      const made = this.created.get(id);
      if (made && made.looksLeft > 0) made.looksLeft -= 1;
      return made && { ...made, status: made.looksLeft > 0 ? 'creating' : 'available' };
    };
    mock.on(DescribeGlobalClustersCommand).callsFake(({ GlobalClusterIdentifier: global }) => {
      guard('DescribeGlobalClusters', global);
      const made = this.created.get(global);
      if (made) {
        const members = [made.source!, ...[...this.created.entries()].filter(([, item]) => item.global === global && item.cluster === undefined && item.source === undefined).map(([id, item]) => arn(item.region, id))];
        return { GlobalClusters: [{ GlobalClusterIdentifier: global, Engine: 'aurora-postgresql', EngineVersion: '16.6', GlobalClusterMembers: members.map((member, index) => ({ DBClusterArn: member, IsWriter: index === 0 })) }] };
      }
      if (!this.writers.has(global)) throw notFound('GlobalClusterNotFoundFault', `Global cluster ${global} not found.`);
      const flight = this.inFlight.get(global);
      if (flight && --flight.looksLeft <= 0) {
        this.writers.set(global, flight.to);
        this.inFlight.delete(global);
      }
      const writer = this.writers.get(global)!;
      const members = [WEST, CENTRAL].map((r) => arn(r, `${global}-${r}`)).filter((member) => !this.detached.has(member));
      return {
        GlobalClusters: [{
          GlobalClusterIdentifier: global,
          Engine: 'aurora-postgresql',
          EngineVersion: '16.6',
          GlobalClusterMembers: members.map((member) => ({ DBClusterArn: member, IsWriter: member === writer && !this.inFlight.has(global) })),
          ...(this.inFlight.has(global) && { FailoverState: { Status: 'switching-over', ToDbClusterArn: this.inFlight.get(global)!.to, IsDataLossAllowed: this.inFlight.get(global)!.dataLoss } }),
        }],
      };
    });
    const move = (dataLoss: boolean) => ({ GlobalClusterIdentifier: global, TargetDbClusterIdentifier: to }: { GlobalClusterIdentifier: string; TargetDbClusterIdentifier: string }) => {
      guard(dataLoss ? 'FailoverGlobalCluster' : 'SwitchoverGlobalCluster', global);
      if (this.failSwitchoverOf.has(global)) throw Object.assign(new Error(`The global cluster ${global} is not in a valid state`), { name: 'InvalidGlobalClusterStateFault' });
      this.inFlight.set(global, { to, looksLeft: this.settleAfter, dataLoss });
      return {};
    };
    mock.on(SwitchoverGlobalClusterCommand).callsFake(move(false));
    mock.on(FailoverGlobalClusterCommand).callsFake(move(true));
    mock.on(RemoveFromGlobalClusterCommand).callsFake(({ GlobalClusterIdentifier: global, DbClusterIdentifier: member }) => {
      guard('RemoveFromGlobalCluster', global);
      this.detached.add(member);
      return {};
    });
    mock.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: given }) => {
      guard('DescribeDBClusters');
      // DescribeDBClusters takes an identifier or an ARN.
      const id = given.split(':').at(-1);
      const made = look(id);
      if (!made && this.absent.has(id)) throw notFound('DBClusterNotFoundFault', `DBCluster ${id} not found.`);
      const global = made ? made.global : [...this.writers.keys()].find((candidate) => id === `${candidate}-${region}` && !this.detached.has(arn(region, id)));
      const instances = made
        ? [...this.created.entries()].filter(([, item]) => item.cluster === id).map(([instance]) => ({ DBInstanceIdentifier: instance }))
        : this.withoutInstances.has(id) ? [] : [{ DBInstanceIdentifier: `${id}-1`, IsClusterWriter: true }];
      return {
        DBClusters: [{
          DBClusterIdentifier: id,
          DBClusterArn: arn(region, id),
          Engine: 'aurora-postgresql',
          EngineVersion: this.engineVersions.get(id) ?? '16.6',
          Status: made?.status ?? 'available',
          Endpoint: `${id}.cluster-abc.${region}.rds.amazonaws.com`,
          DBClusterMembers: instances,
          ...(global && { GlobalClusterIdentifier: global }),
        }],
      };
    });
    mock.on(DescribeDBInstancesCommand).callsFake(({ DBInstanceIdentifier: given }) => {
      guard('DescribeDBInstances');
      const id = given.split(':').at(-1);
      const made = look(id);
      if (made) return { DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: made.status, ...(made.source && { ReadReplicaSourceDBInstanceIdentifier: made.source }) }] };
      if (this.absent.has(id)) throw notFound('DBInstanceNotFoundFault', `DBInstance ${id} not found.`);
      const promotion = this.promotions.get(id);
      const promoted = promotion !== undefined && --promotion.looksLeft <= 0;
      return { DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: promotion && !promoted ? 'modifying' : 'available', ...(!promotion && { ReadReplicaSourceDBInstanceIdentifier: `arn:aws:rds:${WEST}:${ACCOUNT}:db:${id}-source` }) }] };
    });
    mock.on(CreateGlobalClusterCommand).callsFake(({ GlobalClusterIdentifier: global, SourceDBClusterIdentifier: source }) => {
      guard('CreateGlobalCluster', global);
      this.created.set(global, { region, looksLeft: 0, source });
      return {};
    });
    mock.on(CreateDBClusterCommand).callsFake((input) => {
      guard('CreateDBCluster', input.GlobalClusterIdentifier);
      this.creations.push({ region, command: 'CreateDBCluster', input });
      this.created.set(input.DBClusterIdentifier, { region, looksLeft: this.settleAfter, global: input.GlobalClusterIdentifier });
      return {};
    });
    mock.on(CreateDBInstanceCommand).callsFake((input) => {
      guard('CreateDBInstance');
      this.creations.push({ region, command: 'CreateDBInstance', input });
      this.created.set(input.DBInstanceIdentifier, { region, looksLeft: this.settleAfter, cluster: input.DBClusterIdentifier });
      return {};
    });
    mock.on(CreateDBInstanceReadReplicaCommand).callsFake((input) => {
      guard('CreateDBInstanceReadReplica');
      this.creations.push({ region, command: 'CreateDBInstanceReadReplica', input });
      this.created.set(input.DBInstanceIdentifier, { region, looksLeft: this.settleAfter, source: input.SourceDBInstanceIdentifier, cluster: '' });
      return {};
    });
    mock.on(PromoteReadReplicaCommand).callsFake(({ DBInstanceIdentifier: id }) => {
      guard('PromoteReadReplica');
      this.promotions.set(id, { looksLeft: this.settleAfter });
      return {};
    });
    return client;
  }
}

function depsFor(aurora: FakeAurora, clock = { now: Date.parse('2026-12-01T10:00:00Z') }, step = 1000): StepDeps {
  const clients = new Map<string, RDSClient>();
  const route53 = new Route53Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  mockClient(route53).on(ListResourceRecordSetsCommand).callsFake(({ StartRecordName: name }) => ({
    ResourceRecordSets: aurora.recordTarget ? [{ Name: `${name}.`, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: aurora.recordTarget }] }] : [],
    IsTruncated: false,
    MaxItems: 1,
  }));
  const caches = new Map<string, ElastiCacheClient>();
  const sns = new SNSClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  mockClient(sns).on(PublishCommand).callsFake((input) => {
    aurora.published.push(input);
    return { MessageId: `message-${aurora.published.length}` };
  });
  const lambda = new LambdaClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  mockClient(lambda).on(InvokeCommand).callsFake(async ({ FunctionName, Payload }) => {
    const payload = JSON.parse(new TextDecoder().decode(Payload));
    aurora.invoked.push({ FunctionName, Payload: payload });
    try {
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(await aurora.customFunction(payload))) };
    } catch (error) {
      // Lambda's answer for a function that threw: status 200, FunctionError, and the error as the payload.
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message, trace: [] })) };
    }
  });
  return {
    sns: () => sns,
    lambda: () => lambda,
    approvalTopics: { default: APPROVALS, allowed: [`arn:aws:sns:${CENTRAL}:${ACCOUNT}:team-*`] },
    customFunctions: [`arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:team-*`],
    elasticache: (region) => caches.get(region) ?? caches.set(region, aurora.cacheClient(region)).get(region)!,
    route53: () => route53,
    rds: (region) => clients.get(region) ?? clients.set(region, aurora.client(region)).get(region)!,
    runRegion: CENTRAL,
    now: () => (clock.now += step),
    resolve: async (kind, name) => ({ 'Import:dr-global-id': 'keycloak-prod', 'Ssm:/keycloak-aurora-dr/prod/global-cluster-identifier': 'keycloak-prod' } as Record<string, string>)[`${kind}:${name}`],
    functionArns: Object.fromEntries(Object.keys(EXECUTORS).map((type) => [type, `arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:dr-${type}`])),
  };
}

/** Runs the real definition in a local ASL interpreter, its tasks running the real step logic. */
interface Outside {
  /** The approver: what they send with SendTaskSuccess, or throw for SendTaskFailure. @default approves */
  approve?(request: { TopicArn?: string; Message?: string }): Promise<unknown>;
}

const EXECUTION = `arn:aws:states:${CENTRAL}:${ACCOUNT}:execution:keycloak-prod-dr:run-1`;

async function run(payload: unknown, deps: StepDeps, events: string[] = [], outside: Outside = {}) {
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } });
  const payloadOf = (input: unknown) => (input as { Payload: Record<string, unknown> }).Payload;
  const execution = machine.run(payload as never, {
    // The interpreter's context object has no task token; a real one is an opaque string like this.
    context: { Execution: { Id: EXECUTION, StartTime: new Date(deps.now()).toISOString() }, Task: { Token: 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-token' } },
    overrides: {
      taskResourceLocalHandlers: {
        [TASK_STATES.ask]: async (input) => {
          const event = payloadOf(input) as never as Parameters<typeof askForApproval>[0];
          events.push(`ask ${event.resource.name}`);
          await askForApproval(event, deps);
          return (await (outside.approve ?? (async () => ({ approvedBy: 'alice' })))({})) as never;
        },
        [TASK_STATES.outcome]: async (input) => {
          const event = payloadOf(input) as never as Parameters<typeof checkResource>[0];
          const progress = await checkResource(event, deps);
          if (progress.done) events.push(`done ${event.resource.name}`);
          return { Payload: progress } as never;
        },
        [TASK_STATES.validate]: async (input) => ({ Payload: await validatePlan(payloadOf(input).plan, deps) }) as never,
        [TASK_STATES.start]: async (input) => {
          const event = payloadOf(input) as never as Parameters<typeof startResource>[0];
          events.push(`start ${event.resource.name}`);
          const progress = await startResource(event, deps);
          if (progress.done) events.push(`done ${event.resource.name}`);
          return { Payload: progress } as never;
        },
        [TASK_STATES.check]: async (input) => {
          const event = payloadOf(input) as never as Parameters<typeof checkResource>[0];
          const progress = await checkResource(event, deps);
          if (progress.done) events.push(`done ${event.resource.name}`);
          return { Payload: progress } as never;
        },
        [TASK_STATES.record]: async (input) => {
          const { loop, layer } = payloadOf(input) as never as Parameters<typeof recordLayer> extends [infer L, infer R] ? { loop: L; layer: R } : never;
          return { Payload: recordLayer(loop, layer) } as never;
        },
        [TASK_STATES.summarize]: async (input) => {
          const { startedAt, layers } = payloadOf(input) as { startedAt: string; layers: never };
          return { Payload: summarize(startedAt, layers, deps.now()) } as never;
        },
      },
      waitTimeOverrides: { 'Wait before checking': 0 },
    },
  });
  try {
    return { output: (await execution.result) as Record<string, unknown>, events };
  } catch (error) {
    return { error: error as Error & { cause?: { name?: string } }, events };
  }
}

describe('DR plan', () => {
  test('the sample\'s payload is accepted, its type names mapped', () => {
    const plan = parsePlan({
      StatePayload: [{
        layer: 1,
        resources: [
          { resourceType: 'PlannedFailoverAurora', resourceName: 'Switchover of Aurora (PostgreSQL)', parameters: { GlobalClusterIdentifier: '!Import dr-globaldb-cluster-postgres-global-identifier', DBClusterIdentifier: '!Import dr-globaldb-cluster-postgres-cluster-identifier' } },
          { resourceType: 'PromoteRDSReadReplica', resourceName: 'Promote RDS for MySQL Read Replica', parameters: { RDSInstanceIdentifier: '!Import rds-mysql-instance-identifier', TargetClusterIdentifier: '!Import rds-mysql-instance-global-arn' } },
        ],
      }],
    });
    expect(plan.layers[0].resources.map((r) => [r.givenType, r.type, r.timeoutSeconds, r.pollSeconds])).toEqual([
      ['PlannedFailoverAurora', 'AuroraGlobalSwitchover', 1800, 15],
      ['PromoteRDSReadReplica', 'PromoteRDSReadReplica', 3600, 15],
    ]);
  });

  test('layers come back in ascending order whatever order the payload gives', () => {
    const plan = parsePlan({ StatePayload: [{ layer: 2, resources: [switchover('b', 'kc-b')] }, { layer: 1, resources: [switchover('a', 'kc-a')] }] });
    expect(plan.layers.map((layer) => layer.layer)).toEqual([1, 2]);
  });

  test.each<[string, unknown, RegExp]>([
    ['an unknown type, with a suggestion', { StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc'), resourceType: 'PlannedFailoverAurra' }] }] }, /StatePayload\[0\]\.resources\[0\]\.resourceType: "PlannedFailoverAurra" is not a resource type; did you mean PlannedFailoverAurora\?/],
    ['the string "False" where a boolean belongs', { StatePayload: [{ layer: 1, resources: [{ resourceType: 'AuroraGlobalFailover', resourceName: 'f', parameters: { GlobalClusterIdentifier: 'kc', DBClusterIdentifier: 'kc-eu-central-1', AllowDataLoss: 'False' } }] }] }, /parameters\.AllowDataLoss: must be true: a managed failover can lose the writes not yet replicated/],
    ['a missing parameter', { StatePayload: [{ layer: 1, resources: [{ resourceType: 'AuroraGlobalSwitchover', resourceName: 'a', parameters: { GlobalClusterIdentifier: 'kc' } }] }] }, /resources\[0\]\.parameters\.DBClusterIdentifier: is required/],
    ['a misspelt parameter', { StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc'), parameters: { GlobalClusterIdentifier: 'kc', DBClusterIdentifer: 'x', DBClusterIdentifier: 'y' } }] }] }, /DBClusterIdentifer is not a parameter of AuroraGlobalSwitchover/],
    ['an empty layer', { StatePayload: [{ layer: 1, resources: [] }] }, /StatePayload\[0\]\.resources: a layer needs at least one resource/],
    ['no layer', { StatePayload: [] }, /StatePayload: a plan needs at least one layer/],
    ['a resource name used twice', { StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a')] }, { layer: 2, resources: [switchover('a', 'kc-b')] }] }, /resourceName "a" is used twice/],
    ['the same resource twice', { StatePayload: [{ layer: 1, resources: [switchover('a', 'kc'), switchover('b', 'kc')] }] }, /resource "b" repeats "a": the same AuroraGlobalSwitchover with the same parameters/],
    ['a layer number given twice', { StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a')] }, { layer: 1, resources: [switchover('b', 'kc-b')] }] }, /StatePayload\[1\]\.layer: layer 1 is given twice/],
    ['polling slower than the bound', { StatePayload: [{ layer: 1, resources: [switchover('a', 'kc', CENTRAL, { pollSeconds: 301 })] }] }, /pollSeconds: .*<=300/],
    ['a timeout below the polling bound', { StatePayload: [{ layer: 1, resources: [switchover('a', 'kc', CENTRAL, { timeoutSeconds: 5 })] }] }, /timeoutSeconds: .*>=30/],
  ])('refuses %s, naming the field', (_case, payload, message) => {
    expect(() => parsePlan(payload)).toThrow(PlanError);
    expect(() => parsePlan(payload)).toThrow(message);
  });
});

describe('DR orchestrator state machine', () => {
  test('is valid Amazon States Language', () => {
    const { isValid, errors } = validator(definition as never);
    expect({ isValid, errors }).toEqual({ isValid: true, errors: [] });
  });

  test('runs two layers in order, each resource from its own Region\'s truth, and reports the timings', async () => {
    const aurora = new FakeAurora().cluster('kc-a').cluster('kc-b');
    const { output, error, events } = await run({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a')] }, { layer: 2, resources: [switchover('b', 'kc-b')] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(events).toEqual(['start a', 'done a', 'start b', 'done b']);
    expect(aurora.writers.get('kc-a')).toBe(arn(CENTRAL, 'kc-a-eu-central-1'));
    expect(aurora.writers.get('kc-b')).toBe(arn(CENTRAL, 'kc-b-eu-central-1'));
    expect(output).toMatchObject({ recoveryTimeSeconds: expect.any(Number), layers: [{ layer: 1, resources: [{ name: 'a', skipped: false }] }, { layer: 2, resources: [{ name: 'b' }] }] });
    const [first, second] = (output as { layers: Array<{ startedAt: string; finishedAt: string }> }).layers;
    expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt));
  });

  test('starts every resource of a layer before any of them is done', async () => {
    const aurora = new FakeAurora(3).cluster('kc-a').cluster('kc-b');
    const { error, events } = await run({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a'), switchover('b', 'kc-b')] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(events.slice(0, 2).sort()).toEqual(['start a', 'start b']);
  });

  test('a failing resource ends the run as failed, naming layer, resource, type and cause; the next layer never starts', async () => {
    const aurora = new FakeAurora().cluster('kc-a').cluster('kc-b').cluster('kc-c');
    aurora.failSwitchoverOf.add('kc-b');
    const { error, events } = await run({
      StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a'), { ...switchover('b', 'kc-b'), resourceType: 'PlannedFailoverAurora' }] }, { layer: 2, resources: [switchover('c', 'kc-c')] }],
    }, depsFor(aurora));
    expect(error?.message).toMatch(/layer 1, resource b \(PlannedFailoverAurora\): InvalidGlobalClusterStateFault: The global cluster kc-b is not in a valid state/);
    expect(error?.cause?.name).toBe('ResourceFailed');
    expect(events).not.toContain('start c');
    expect(aurora.calls.filter((call) => call.global === 'kc-c')).toEqual([]);
  });

  test('a resource past its timeout fails the run with what was seen last', async () => {
    const aurora = new FakeAurora(Number.POSITIVE_INFINITY).cluster('kc-a');
    // Every call moves the clock 20 s: a 60-second timeout passes after a few checks, never unbounded.
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a', CENTRAL, { timeoutSeconds: 60 })] }] }, depsFor(aurora, undefined, 20_000));
    expect(error?.message).toMatch(/layer 1, resource a \(AuroraGlobalSwitchover\): not done within 60 s; last seen: switchover switching-over/);
    expect(error?.cause?.name).toBe('ResourceTimedOut');
    expect(aurora.calls.filter((call) => call.command === 'DescribeGlobalClusters').length).toBeLessThan(10);
  });

  test('an unknown type is refused before any AWS call', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc-a'), resourceType: 'Teleport' }] }] }, depsFor(aurora));
    expect(error?.message).toMatch(/"Teleport" is not a resource type/);
    expect(aurora.calls).toEqual([]);
  });

  test('a custom function or an approval topic the orchestrator may not use is refused before any AWS call', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error } = await run({
      StatePayload: [{ layer: 1, resources: [
        { resourceType: 'CustomLambda', resourceName: 'drain', parameters: { FunctionName: 'other-team-drain' } },
        { resourceType: 'ManualApproval', resourceName: 'go', parameters: { Message: 'go?', TopicArn: `arn:aws:sns:${CENTRAL}:${ACCOUNT}:random` } },
      ] }],
    }, depsFor(aurora));
    expect(error?.message).toMatch(/resource "drain": the orchestrator may not invoke other-team-drain \(allowed: arn:aws:lambda:eu-central-1:123456789012:function:team-\*; add it to the construct's customFunctionArns\)/);
    expect(error?.message).toMatch(/resource "go": the orchestrator may not publish to arn:aws:sns:eu-central-1:123456789012:random/);
    expect(aurora.calls).toEqual([]);
    expect(aurora.published).toEqual([]);
  });

  test('only a whole value is a reference: text around !Import or !Ssm is taken literally', async () => {
    const deps = depsFor(new FakeAurora());
    const { layers } = await validatePlan({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc'), parameters: { GlobalClusterIdentifier: 'see !Import dr-global-id', DBClusterIdentifier: '!Import dr-global-id and more' } }] }] }, deps);
    expect(layers[0].resources[0].parameters).toMatchObject({ GlobalClusterIdentifier: 'see !Import dr-global-id', DBClusterIdentifier: '!Import dr-global-id and more' });
  });

  test('references are resolved before the first action, and one that does not resolve stops the run', async () => {
    const aurora = new FakeAurora().cluster('keycloak-prod');
    const resolved = await run({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'keycloak-prod'), parameters: { GlobalClusterIdentifier: '!Import dr-global-id', DBClusterIdentifier: arn(CENTRAL, 'keycloak-prod-eu-central-1') } }] }] }, depsFor(aurora));
    expect(resolved.error).toBeUndefined();
    const unresolved = await run({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'keycloak-prod'), parameters: { GlobalClusterIdentifier: '!Ssm /nowhere', DBClusterIdentifier: 'x' } }] }] }, depsFor(new FakeAurora()));
    expect(unresolved.error?.message).toMatch(/resource "a": !Ssm \/nowhere does not resolve in eu-central-1/);
  });

  test('a re-run after a partial failure skips what is already done and finishes the rest', async () => {
    const aurora = new FakeAurora().cluster('kc-a', CENTRAL).cluster('kc-b');
    const { output, error } = await run({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a')] }, { layer: 2, resources: [switchover('b', 'kc-b')] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.calls.filter((call) => call.command === 'SwitchoverGlobalCluster').map((call) => call.global)).toEqual(['kc-b']);
    expect(output).toMatchObject({ layers: [{ resources: [{ name: 'a', skipped: true }] }, { resources: [{ name: 'b', skipped: false }] }] });
  });

  test('runs from the surviving Region while every call to the primary Region fails', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    aurora.downRegions.add(WEST);
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [{ resourceType: 'AuroraGlobalFailover', resourceName: 'a', parameters: { GlobalClusterIdentifier: 'kc-a', DBClusterIdentifier: arn(CENTRAL, 'kc-a-eu-central-1'), AllowDataLoss: true } }] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.calls.every((call) => call.region === CENTRAL)).toBe(true);
    expect(aurora.calls.map((call) => call.command)).toContain('FailoverGlobalCluster');
  });

  test('a read replica is promoted and done once it stands alone and is available', async () => {
    const aurora = new FakeAurora();
    const { output, error } = await run({ StatePayload: [{ layer: 1, resources: [{ resourceType: 'PromoteRDSReadReplica', resourceName: 'r', parameters: { RDSInstanceIdentifier: `arn:aws:rds:${CENTRAL}:${ACCOUNT}:db:reports`, TargetClusterIdentifier: 'ignored' } }] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.calls.filter((call) => call.command === 'PromoteReadReplica')).toEqual([{ region: CENTRAL, command: 'PromoteReadReplica', global: undefined }]);
    expect(output).toMatchObject({ layers: [{ resources: [{ name: 'r', detail: 'reports available, standalone' }] }] });
  });

  test('a cache and a database in one layer: the ElastiCache global datastore fails over to the group named, called in its Region', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error, output } = await run({
      StatePayload: [{ layer: 1, resources: [
        switchover('db', 'kc-a'),
        { resourceType: 'FailoverElastiCacheCluster', resourceName: 'cache', parameters: { GlobalReplicationGroupId: 'ldgnf-sessions', PrimaryRegion: CENTRAL, PrimaryReplicationGroupId: 'cache-eu-central-1' } },
      ] }],
    }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.cachePrimary).toBe(CENTRAL);
    expect(aurora.calls.filter((call) => call.command === 'FailoverGlobalReplicationGroup')).toEqual([{ region: CENTRAL, command: 'FailoverGlobalReplicationGroup' }]);
    expect(output).toMatchObject({ layers: [{ resources: expect.arrayContaining([expect.objectContaining({ name: 'cache', detail: 'cache-eu-central-1 is primary, the datastore available' })]) }] });
  });

  test('a switchover then waiting for the writer DNS name: the second layer is done only when the name names the new writer', async () => {
    const aurora = new FakeAurora().cluster('keycloak-prod');
    const deps = depsFor(aurora);
    const moveName = deps.route53;
    let looks = 0;
    // The writer-DNS handler catches up after a few looks.
    deps.route53 = () => {
      if (++looks === 3) aurora.recordTarget = 'keycloak-prod-eu-central-1.cluster-abc.eu-central-1.rds.amazonaws.com.';
      return moveName();
    };
    aurora.recordTarget = 'keycloak-prod-eu-west-1.cluster-abc.eu-west-1.rds.amazonaws.com.';
    const { output, error } = await run({
      StatePayload: [
        { layer: 1, resources: [switchover('move', 'keycloak-prod')] },
        { layer: 2, resources: [{ resourceType: 'WaitForWriterDns', resourceName: 'dns', parameters: { GlobalClusterIdentifier: 'keycloak-prod', HostedZoneId: 'Z0PRIVATEZONE01', RecordName: 'keycloak-prod.aurora-global.example.com' } }] },
      ],
    }, deps);
    expect(error).toBeUndefined();
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(output).toMatchObject({ layers: [{}, { resources: [{ name: 'dns', detail: expect.stringMatching(/names keycloak-prod-eu-central-1\.cluster-abc/) }] }] });
  });

  test('detach-and-promote (the sample\'s unplanned type) is done once the cluster has left and is available', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [{ resourceType: 'UnPlannedFailoverAurora', resourceName: 'a', parameters: { GlobalClusterIdentifier: 'kc-a', DBClusterIdentifier: 'kc-a-eu-central-1' } }] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.detached).toEqual(new Set([arn(CENTRAL, 'kc-a-eu-central-1')]));
  });
});

describe('DR orchestrator: approvals, custom functions and failback', () => {
  const approval = (name: string, extra = {}) => ({ resourceType: 'ManualApproval', resourceName: name, parameters: { Message: 'Keycloak is drained in eu-west-1; fail over?' }, ...extra });

  test('a manual approval holds the next layer until approved; the request carries the token and the commands that answer it', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const events: string[] = [];
    const { error, output } = await run({ StatePayload: [{ layer: 1, resources: [approval('approve')] }, { layer: 2, resources: [switchover('move', 'kc-a')] }] }, depsFor(aurora), events, {
      approve: async () => {
        expect(aurora.calls.filter((call) => call.command === 'SwitchoverGlobalCluster')).toEqual([]);
        return { approvedBy: 'alice' };
      },
    });
    expect(error).toBeUndefined();
    expect(events.slice(0, 4)).toEqual(['start approve', 'ask approve', 'done approve', 'start move']);
    expect(aurora.published).toHaveLength(1);
    const [request] = aurora.published;
    expect(request.TopicArn).toBe(APPROVALS);
    expect(request.Message).toContain(`DR run ${EXECUTION}, layer 1, resource approve:`);
    expect(request.Message).toContain('Keycloak is drained in eu-west-1; fail over?');
    expect(request.Message).toContain(`aws stepfunctions send-task-success --region ${CENTRAL} --task-token "AQCEAAAAKgAAAAMAAAAAAAAAAfake-token"`);
    expect(request.Message).toContain('aws stepfunctions send-task-failure');
    expect(output).toMatchObject({ layers: [{ resources: [{ name: 'approve', detail: 'approved: {"approvedBy":"alice"}', skipped: false }] }, {}] });
  });

  test('a rejected approval fails the run with the approver\'s reason, and the next layer never starts', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error, events } = await run({ StatePayload: [{ layer: 1, resources: [approval('approve')] }, { layer: 2, resources: [switchover('move', 'kc-a')] }] }, depsFor(aurora), [], {
      approve: async () => {
        throw Object.assign(new Error('the database team says no: replication is behind'), { name: 'Rejected' });
      },
    });
    expect(error?.message).toMatch(/layer 1, resource approve \(ManualApproval\): Rejected: the database team says no: replication is behind/);
    expect(events).not.toContain('start move');
  });

  test('an approval nobody answers within its timeout fails the run as timed out', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    // The interpreter raises States.Timeout when TimeoutSecondsPath passes; the approver here stands in for that.
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [approval('approve', { timeoutSeconds: 600 })] }] }, depsFor(aurora), [], {
      approve: async () => {
        throw Object.assign(new Error('Task timed out'), { name: 'States.Timeout' });
      },
    });
    expect(error?.message).toMatch(/layer 1, resource approve \(ManualApproval\): not done within 600 s/);
    expect(error?.cause?.name).toBe('ResourceTimedOut');
  });

  test('the approval task bounds its wait by the resource\'s timeout, read from where Step Functions and the interpreter both find it', () => {
    const processor = ((definition.States as Record<string, { ItemProcessor: { States: Record<string, Record<string, unknown>> } }>)['Resources of the layer']).ItemProcessor.States;
    expect(processor[TASK_STATES.ask]).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSecondsPath: '$.Payload.timeoutSeconds' });
    expect(processor['Note the approval timeout']).toMatchObject({ Parameters: { 'timeoutSeconds.$': '$.resource.timeoutSeconds' }, ResultPath: '$.Payload' });
  });

  test('a custom function is invoked with its payload, and its answer recorded; a failing one fails the run naming its error', async () => {
    const aurora = new FakeAurora();
    const custom = { resourceType: 'CustomLambda', resourceName: 'scale keycloak', parameters: { FunctionName: 'team-scale-keycloak', Payload: { replicas: 3 } } };
    aurora.customFunction = async () => ({ scaled: 3 });
    const good = await run({ StatePayload: [{ layer: 1, resources: [custom] }] }, depsFor(aurora));
    expect(good.error).toBeUndefined();
    expect(aurora.invoked).toEqual([{ FunctionName: 'team-scale-keycloak', Payload: { replicas: 3 } }]);
    expect(good.output).toMatchObject({ layers: [{ resources: [{ name: 'scale keycloak', detail: 'team-scale-keycloak returned {"scaled":3}' }] }] });
    aurora.customFunction = async () => {
      throw Object.assign(new Error('deployment keycloak not found'), { name: 'ResourceNotFound' });
    };
    const bad = await run({ StatePayload: [{ layer: 1, resources: [custom] }] }, depsFor(aurora));
    expect(bad.error?.message).toMatch(/layer 1, resource scale keycloak \(CustomLambda\): ResourceNotFound: deployment keycloak not found/);
  });

  test('a custom function may not be given more time than Lambda runs one', () => {
    expect(() => parsePlan({ StatePayload: [{ layer: 1, resources: [{ resourceType: 'CustomLambda', resourceName: 'slow', parameters: { FunctionName: 'team-x' }, timeoutSeconds: 3600 }] }] }))
      .toThrow(/resource "slow": timeoutSeconds of a CustomLambda is at most 890/);
  });

  const secondary = (extra: Record<string, unknown> = {}) => ({
    resourceType: 'CreateAuroraSecondaryDBCluster',
    resourceName: 'west back as secondary',
    parameters: {
      GlobalClusterIdentifier: 'kc-a-2',
      SourceDBClusterArn: arn(CENTRAL, 'kc-a-eu-central-1'),
      DBClusterIdentifier: 'kc-a-eu-west-1-b',
      Region: WEST,
      DBSubnetGroupName: 'kc-a-eu-west-1',
      VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
      KmsKeyId: `arn:aws:kms:${WEST}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      DBInstanceClass: 'db.r6g.large',
      Instances: 2,
      ...extra,
    },
  });

  test('failback after a detach-and-promote: the global cluster is made from the promoted writer, then the secondary and its instances, each in its Region', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    aurora.detached.add(arn(CENTRAL, 'kc-a-eu-central-1'));
    ['kc-a-2', 'kc-a-eu-west-1-b', 'kc-a-eu-west-1-b-1', 'kc-a-eu-west-1-b-2'].forEach((id) => aurora.absent.add(id));
    const { error, output } = await run({ StatePayload: [{ layer: 1, resources: [secondary()] }] }, depsFor(aurora));
    expect(error).toBeUndefined();
    expect(aurora.calls.filter((call) => call.command.startsWith('Create')).map((call) => [call.region, call.command])).toEqual([
      [CENTRAL, 'CreateGlobalCluster'],
      [WEST, 'CreateDBCluster'],
      [WEST, 'CreateDBInstance'],
      [WEST, 'CreateDBInstance'],
    ]);
    expect(aurora.creations[0].input).toMatchObject({ GlobalClusterIdentifier: 'kc-a-2', Engine: 'aurora-postgresql', EngineVersion: '16.6', StorageEncrypted: true, DeletionProtection: true, DBSubnetGroupName: 'kc-a-eu-west-1' });
    expect(aurora.creations.slice(1).map((creation) => creation.input.DBInstanceIdentifier)).toEqual(['kc-a-eu-west-1-b-1', 'kc-a-eu-west-1-b-2']);
    expect(output).toMatchObject({ layers: [{ resources: [{ name: 'west back as secondary', detail: 'kc-a-eu-west-1-b available, 2 instance(s) available' }] }] });
  });

  test('failback refuses to reuse a cluster of that name outside the global cluster (its data may have diverged)', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    aurora.absent.add('kc-a-2');
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [secondary({ DBClusterIdentifier: 'kc-a-eu-west-1', SourceDBClusterArn: arn(CENTRAL, 'kc-b-eu-central-1') })] }] }, depsFor(aurora));
    expect(error?.message).toMatch(/kc-a-eu-west-1 in eu-west-1 exists but is not a member of global cluster kc-a-2; give the secondary another DBClusterIdentifier or delete that cluster first/);
    expect(aurora.calls.filter((call) => call.command.startsWith('Create'))).toEqual([]);
  });

  test('a cross-Region read replica is created in its Region from the source ARN and done once available; a re-run skips it', async () => {
    const aurora = new FakeAurora();
    aurora.absent.add('reports-west');
    const replica = { resourceType: 'CreateRDSReadReplica', resourceName: 'reports replica', parameters: { SourceDBInstanceArn: `arn:aws:rds:${CENTRAL}:${ACCOUNT}:db:reports`, DBInstanceIdentifier: 'reports-west', Region: WEST, KmsKeyId: 'alias/aws/rds' } };
    const first = await run({ StatePayload: [{ layer: 1, resources: [replica] }] }, depsFor(aurora));
    expect(first.error).toBeUndefined();
    expect(aurora.creations.map((creation) => [creation.region, creation.command, creation.input.SourceDBInstanceIdentifier])).toEqual([[WEST, 'CreateDBInstanceReadReplica', `arn:aws:rds:${CENTRAL}:${ACCOUNT}:db:reports`]]);
    const again = await run({ StatePayload: [{ layer: 1, resources: [replica] }] }, depsFor(aurora));
    expect(again.output).toMatchObject({ layers: [{ resources: [{ name: 'reports replica', skipped: true }] }] });
    expect(aurora.creations).toHaveLength(1);
  });
});

describe('DR readiness evaluation', () => {
  const allowAll = async (_role: string, actions: readonly string[]): Promise<SimulatedDecision[]> => actions.map((action) => ({ action, decision: 'allowed' }));
  const readiness = (aurora: FakeAurora, extra: Partial<ReadinessDeps> = {}): ReadinessDeps => ({
    ...depsFor(aurora),
    roleArns: Object.fromEntries(Object.entries(RESOURCE_TASKS).map(([type, { task }]) => [type, `arn:aws:iam::${ACCOUNT}:role/dr-${task}-20261201`])),
    replicationLagSeconds: async () => 0.4,
    maxReplicationLagSeconds: 30,
    simulate: allowAll,
    ...extra,
  });
  const changes = (aurora: FakeAurora) => aurora.calls.filter((call) => !/^Describe/.test(call.command));

  test('a plan that would run finds nothing, and the evaluation changes nothing', async () => {
    const aurora = new FakeAurora().cluster('kc-a').cluster('kc-b');
    expect(await evaluatePlan({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a'), switchover('b', 'kc-b')] }] }, readiness(aurora))).toEqual([]);
    expect(changes(aurora)).toEqual([]);
  });

  test.each<[string, (aurora: FakeAurora) => void, Partial<ReadinessDeps>, RegExp]>([
    ['the target global cluster is missing', () => undefined, {}, /a \(AuroraGlobalSwitchover\): global cluster kc-gone not found from eu-central-1/],
    ['the target cluster has no instances', (aurora) => aurora.withoutInstances.add('kc-a-eu-central-1'), {}, /cluster kc-a-eu-central-1 has no DB instances: it would become a writer nobody can connect to/],
    ['engine versions forbid the switchover', (aurora) => aurora.engineVersions.set('kc-a-eu-central-1', '16.4'), {}, /engine versions differ: the writer runs 16\.6, kc-a-eu-central-1 runs 16\.4; a managed switchover needs the same version/],
    ['replication lags over the bound', () => undefined, { replicationLagSeconds: async () => 95 }, /kc-a-eu-central-1 lags 95 s behind the writer, more than the 30 s allowed/],
    ['there are no lag figures', () => undefined, { replicationLagSeconds: async () => undefined }, /no AuroraGlobalDBReplicationLag figures for kc-a-eu-central-1 in eu-central-1/],
    ['the role lacks a permission', () => undefined, {
      simulate: async (_role, actions) => actions.map((action) => ({ action, decision: action === 'rds:SwitchoverGlobalCluster' ? 'implicitDeny' : 'allowed', resource: `arn:aws:rds::${ACCOUNT}:global-cluster:kc-a` })),
    }, /role dr-switchover-20261201 is not allowed rds:SwitchoverGlobalCluster on arn:aws:rds::123456789012:global-cluster:kc-a \(implicitDeny\)/],
  ])('alarms when %s', async (_case, arrange, extra, problem) => {
    const aurora = new FakeAurora().cluster('kc-a');
    arrange(aurora);
    const global = _case.includes('missing') ? 'kc-gone' : 'kc-a';
    const findings = await evaluatePlan({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', global), parameters: { GlobalClusterIdentifier: global, DBClusterIdentifier: arn(CENTRAL, 'kc-a-eu-central-1') } }] }] }, readiness(aurora, extra));
    expect(findings.map((finding) => `${finding.resource} (${finding.type}): ${finding.problem}`).join('\n')).toMatch(problem);
    expect(changes(aurora)).toEqual([]);
  });

  test('a reference that no longer resolves and an invalid stored plan are findings, not crashes', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const results = await evaluateStoredPlans([
      { name: 'moved', text: JSON.stringify({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc-a'), parameters: { GlobalClusterIdentifier: '!Import gone-export', DBClusterIdentifier: 'kc-a-eu-central-1' } }] }] }) },
      { name: 'broken', text: '{"StatePayload": [' },
      { name: 'typo', text: JSON.stringify({ StatePayload: [{ layer: 1, resources: [{ ...switchover('a', 'kc-a'), resourceType: 'Teleport' }] }] }) },
    ], readiness(aurora));
    expect(results.map(({ plan, findings }) => [plan, findings.map((finding) => finding.problem)])).toEqual([
      ['moved', [expect.stringMatching(/resource "a": !Import gone-export does not resolve in eu-central-1/), expect.stringMatching(/global cluster !Import gone-export not found/)]],
      ['broken', [expect.stringMatching(/the stored plan is not JSON/)]],
      ['typo', [expect.stringMatching(/"Teleport" is not a resource type/)]],
    ]);
  });

  test('with the primary Region down, a failover plan is still assessed from the surviving Region, and one check failing keeps the others', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    aurora.downRegions.add(WEST);
    aurora.withoutInstances.add('kc-a-eu-central-1');
    const failover = { resourceType: 'AuroraGlobalFailover', resourceName: 'a', parameters: { GlobalClusterIdentifier: 'kc-a', DBClusterIdentifier: arn(CENTRAL, 'kc-a-eu-central-1'), AllowDataLoss: true } };
    const findings = await evaluatePlan({ StatePayload: [{ layer: 1, resources: [failover] }] }, readiness(aurora, {
      replicationLagSeconds: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    }));
    expect(findings.map((finding) => finding.problem)).toEqual([
      'cluster kc-a-eu-central-1 has no DB instances: it would become a writer nobody can connect to',
      'the replication lag of kc-a-eu-central-1 could not be read: ThrottlingException: Rate exceeded',
    ]);
    expect(aurora.calls.filter((call) => call.region === WEST)).toEqual([]);
  });

  test('the target already the writer is ready, with no lag or version to compare', async () => {
    const aurora = new FakeAurora().cluster('kc-a', CENTRAL);
    const findings = await evaluatePlan({ StatePayload: [{ layer: 1, resources: [switchover('a', 'kc-a')] }] }, readiness(aurora, { replicationLagSeconds: async () => undefined }));
    expect(findings).toEqual([]);
  });

  test('IAM\'s simulation is asked with the resources of the plan, and a denial per resource is reported', async () => {
    const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const mock = mockClient(iam);
    mock.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [
        { EvalActionName: 'rds:DescribeGlobalClusters', EvalResourceName: '*', EvalDecision: 'allowed', ResourceSpecificResults: [{ EvalResourceName: `arn:aws:rds::${ACCOUNT}:global-cluster:kc-a`, EvalResourceDecision: 'allowed' }] },
        { EvalActionName: 'rds:SwitchoverGlobalCluster', EvalResourceName: '*', EvalDecision: 'implicitDeny', ResourceSpecificResults: [{ EvalResourceName: `arn:aws:rds::${ACCOUNT}:global-cluster:kc-a`, EvalResourceDecision: 'implicitDeny' }] },
      ],
      IsTruncated: false,
    });
    const decisions = await simulatePrincipal(iam, `arn:aws:iam::${ACCOUNT}:role/dr-switchover`, actionsOf('AuroraGlobalSwitchover'), [`arn:aws:rds::${ACCOUNT}:global-cluster:kc-a`], CENTRAL);
    expect(decisions).toEqual([
      { action: 'rds:DescribeGlobalClusters', decision: 'allowed', resource: `arn:aws:rds::${ACCOUNT}:global-cluster:kc-a` },
      { action: 'rds:SwitchoverGlobalCluster', decision: 'implicitDeny', resource: `arn:aws:rds::${ACCOUNT}:global-cluster:kc-a` },
    ]);
    expect(mock.commandCalls(SimulatePrincipalPolicyCommand)[0].args[0].input).toMatchObject({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/dr-switchover`, ResourceArns: [`arn:aws:rds::${ACCOUNT}:global-cluster:kc-a`] });
  });

  test('lag comes from the newest AuroraGlobalDBReplicationLag figure, in seconds; stored plans are read page by page; counts go out per plan and in all', async () => {
    const cloudwatch = new CloudWatchClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const cw = mockClient(cloudwatch);
    cw.on(GetMetricDataCommand).resolvesOnce({ MetricDataResults: [{ Id: 'lag', Label: 'AuroraGlobalDBReplicationLag', Timestamps: [new Date('2026-12-01T10:00:00Z')], Values: [1250], StatusCode: 'Complete' }] })
      .resolves({ MetricDataResults: [{ Id: 'lag', Timestamps: [], Values: [], StatusCode: 'Complete' }] });
    expect(await replicationLagSeconds(cloudwatch, 'kc-a-eu-central-1', Date.parse('2026-12-01T10:01:00Z'))).toBe(1.25);
    expect(await replicationLagSeconds(cloudwatch, 'kc-a-eu-central-1', Date.parse('2026-12-01T10:01:00Z'))).toBeUndefined();
    expect(cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries![0].MetricStat!.Metric).toEqual({ Namespace: 'AWS/RDS', MetricName: 'AuroraGlobalDBReplicationLag', Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'kc-a-eu-central-1' }] });

    const ssm = new SSMClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    mockClient(ssm).on(GetParametersByPathCommand)
      .resolvesOnce({ Parameters: [{ Name: '/keycloak-aurora-dr/prod/dr-plans/switchover-to-eu-central-1', Type: 'String', Value: '{"a":1}' }], NextToken: 'next' })
      .resolves({ Parameters: [{ Name: '/keycloak-aurora-dr/prod/dr-plans/team/cache', Type: 'String', Value: '{"b":2}' }] });
    expect(await storedPlans(ssm, '/keycloak-aurora-dr/prod/dr-plans')).toEqual([
      { name: 'switchover-to-eu-central-1', text: '{"a":1}' },
      { name: 'team/cache', text: '{"b":2}' },
    ]);

    cw.on(PutMetricDataCommand).resolves({});
    await putReadiness(cloudwatch, 'KeycloakAuroraDr/Readiness', 'keycloak-prod-dr', [{ plan: 'a', problems: 2 }, { plan: 'b', problems: 0 }]);
    expect(cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData!.map((datum) => [datum.Dimensions!.map((d) => d.Value).join('/'), datum.Value])).toEqual([
      ['keycloak-prod-dr', 2], ['keycloak-prod-dr/a', 2], ['keycloak-prod-dr/b', 0],
    ]);
  });
});

describe('DR references and task configuration', () => {
  test('!Import pages through the Region\'s exports; !Ssm reads a parameter; neither invents a value', async () => {
    const cloudformation = new CloudFormationClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    mockClient(cloudformation).on(ListExportsCommand)
      .resolvesOnce({ Exports: [{ Name: 'other', Value: 'x', ExportingStackId: 'stack' }], NextToken: 'page-2' })
      .resolves({ Exports: [{ Name: 'dr-globaldb-cluster-postgres-global-identifier', Value: 'keycloak-prod', ExportingStackId: 'stack' }] });
    expect(await resolveImport(cloudformation, 'dr-globaldb-cluster-postgres-global-identifier')).toBe('keycloak-prod');
    const ssm = new SSMClient({ region: CENTRAL, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const ssmMock = mockClient(ssm);
    ssmMock.on(GetParameterCommand, { Name: '/keycloak-aurora-dr/prod/global-cluster-identifier' }).resolves({ Parameter: { Name: '/keycloak-aurora-dr/prod/global-cluster-identifier', Type: 'String', Value: 'keycloak-prod', Version: 1 } });
    ssmMock.on(GetParameterCommand, { Name: '/nowhere' }).rejects(Object.assign(new Error('Parameter /nowhere not found.'), { name: 'ParameterNotFound' }));
    expect(await resolveSsm(ssm, '/keycloak-aurora-dr/prod/global-cluster-identifier')).toBe('keycloak-prod');
    expect(await resolveSsm(ssm, '/nowhere')).toBeUndefined();
  });

  test('a task function refuses to start without its configuration, naming what is missing', () => {
    expect(() => loadTaskConfig({})).toThrow(/DR_TASK is not set; AWS_REGION is not set/);
    expect(() => loadTaskConfig({ DR_TASK: 'evaluate', AWS_REGION: CENTRAL, DR_ROLE_ARNS: '{', DR_MAX_LAG_SECONDS: '-5' })).toThrow(/DR_MAX_LAG_SECONDS is not a positive number; DR_ROLE_ARNS is not JSON/);
    expect(loadTaskConfig({
      DR_TASK: 'evaluate',
      AWS_REGION: CENTRAL,
      DR_FUNCTION_ARNS: '{"AuroraGlobalSwitchover":"arn"}',
      DR_ROLE_ARNS: '{"AuroraGlobalSwitchover":"role"}',
      DR_APPROVAL_TOPIC: APPROVALS,
      DR_APPROVAL_TOPICS: '["arn:aws:sns:eu-central-1:123456789012:team"]',
      DR_CUSTOM_FUNCTIONS: '["arn:aws:lambda:eu-central-1:123456789012:function:team-*"]',
      DR_PLANS_PATH: '/keycloak-aurora-dr/prod/dr-plans',
      DR_STATE_MACHINE: 'keycloak-prod-dr',
      DR_MAX_LAG_SECONDS: '30',
    })).toEqual({
      task: 'evaluate',
      region: CENTRAL,
      functionArns: { AuroraGlobalSwitchover: 'arn' },
      roleArns: { AuroraGlobalSwitchover: 'role' },
      approvalTopics: { default: APPROVALS, allowed: ['arn:aws:sns:eu-central-1:123456789012:team'] },
      customFunctions: ['arn:aws:lambda:eu-central-1:123456789012:function:team-*'],
      readiness: { plansPath: '/keycloak-aurora-dr/prod/dr-plans', namespace: 'KeycloakAuroraDr/Readiness', stateMachine: 'keycloak-prod-dr', maxLagSeconds: 30 },
    });
  });
});
