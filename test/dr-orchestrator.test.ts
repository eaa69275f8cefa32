import { DescribeGlobalReplicationGroupsCommand, ElastiCacheClient, FailoverGlobalReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
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
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { loadTaskConfig } from '../functions/dr-orchestrator/config';
import { PlanError, parsePlan } from '../functions/dr-orchestrator/plan';
import { resolveImport, resolveSsm } from '../functions/dr-orchestrator/resolve';
import { EXECUTORS, StepDeps, checkResource, recordLayer, startResource, summarize, validatePlan } from '../functions/dr-orchestrator/steps';
import { TASK_STATES, orchestratorDefinition } from '../modules/dr-orchestrator/definition';

const ACCOUNT = '123456789012';
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const arn = (region: string, cluster: string) => `arn:aws:rds:${region}:${ACCOUNT}:cluster:${cluster}`;

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
    mock.on(DescribeGlobalClustersCommand).callsFake(({ GlobalClusterIdentifier: global }) => {
      guard('DescribeGlobalClusters', global);
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
    mock.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: id }) => {
      guard('DescribeDBClusters');
      return { DBClusters: [{ DBClusterIdentifier: id, Status: 'available', Endpoint: `${id}.cluster-abc.${region}.rds.amazonaws.com` }] };
    });
    mock.on(DescribeDBInstancesCommand).callsFake(({ DBInstanceIdentifier: id }) => {
      guard('DescribeDBInstances');
      const promotion = this.promotions.get(id);
      const promoted = promotion !== undefined && --promotion.looksLeft <= 0;
      return { DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: promotion && !promoted ? 'modifying' : 'available', ...(!promotion && { ReadReplicaSourceDBInstanceIdentifier: `arn:aws:rds:${WEST}:${ACCOUNT}:db:${id}-source` }) }] };
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
  return {
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
async function run(payload: unknown, deps: StepDeps, events: string[] = []) {
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } });
  const payloadOf = (input: unknown) => (input as { Payload: Record<string, unknown> }).Payload;
  const execution = machine.run(payload as never, {
    overrides: {
      taskResourceLocalHandlers: {
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

  test('a type this release cannot run yet is refused before any AWS call, not skipped', async () => {
    const aurora = new FakeAurora().cluster('kc-a');
    const { error } = await run({ StatePayload: [{ layer: 1, resources: [{ resourceType: 'ManualApproval', resourceName: 'r', parameters: { Message: 'go?', TopicArn: 'arn:aws:sns:eu-central-1:123456789012:approvals' } }] }] }, depsFor(aurora));
    expect(error?.message).toMatch(/resource "r": type ManualApproval cannot run here yet/);
    expect(aurora.calls).toEqual([]);
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
    expect(loadTaskConfig({ DR_TASK: 'plan', AWS_REGION: CENTRAL, DR_FUNCTION_ARNS: '{"AuroraGlobalSwitchover":"arn"}' })).toEqual({ task: 'plan', region: CENTRAL, functionArns: { AuroraGlobalSwitchover: 'arn' } });
  });
});
