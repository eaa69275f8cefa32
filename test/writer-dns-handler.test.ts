import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, GlobalClusterNotFoundFault, RDSClient } from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../functions/writer-dns/config';
import { createHandler } from '../functions/writer-dns/create-handler';
import { decide } from '../functions/writer-dns/decide';
import { LoggerLike, WriterDnsAlarm, WriterNotSettledError, reconcile } from '../functions/writer-dns/reconcile';
import { Trigger, classifyTrigger } from '../functions/writer-dns/trigger';
import { HANDLER_RUNTIME } from '../modules/writer-failover-handler';
import {
  GLOBAL_ENDPOINT,
  RECORD,
  ZONE,
  clusterArn,
  clusterId,
  configFor,
  failoverCompleted,
  failoverNoInstances,
  globalCluster,
  memberCluster,
  rdsClusterEvent,
  recordSets,
  scheduledEvent,
  switchoverFinished,
  writerEndpoint,
} from './writer-dns-fixtures';

const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';

const rds = mockClient(RDSClient);
const route53 = mockClient(Route53Client);
const clients = { rds: new RDSClient({ region: CENTRAL }), route53: new Route53Client({ region: CENTRAL }) };

/** A clock that sleeping advances, so backoff runs instantly and is observable. */
function fakeRuntime() {
  const logs: Array<{ level: string; message: string; extra: unknown[] }> = [];
  const sleeps: number[] = [];
  let now = 1_000_000;
  const logger: LoggerLike = {
    info: (message, ...extra) => logs.push({ level: 'info', message, extra }),
    warn: (message, ...extra) => logs.push({ level: 'warn', message, extra }),
  };
  return {
    logs,
    sleeps,
    runtime: {
      logger,
      now: () => now,
      sleep: async (milliseconds: number) => {
        sleeps.push(milliseconds);
        now += milliseconds;
      },
    },
    deadlineIn: (milliseconds: number) => now + milliseconds,
  };
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

/** The AWS state the mocks answer with. */
function given(state: { global?: ReturnType<typeof globalCluster>; clusters?: Record<string, ReturnType<typeof memberCluster>>; record?: string; ttl?: number }) {
  if (state.global) rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [state.global] });
  else rds.on(DescribeGlobalClustersCommand).rejects(new GlobalClusterNotFoundFault({ message: `${clusterId('x')} not found`, $metadata: {} }));
  for (const [region, cluster] of Object.entries(state.clusters ?? {})) {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: clusterId(region) }).resolves({ DBClusters: [cluster] });
  }
  route53.on(ListResourceRecordSetsCommand).resolves(recordSets(state.record, state.ttl));
  route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C0123456789', Status: 'PENDING', SubmittedAt: new Date() } });
  route53.on(GetChangeCommand).resolvesOnce({ ChangeInfo: { Id: '/change/C0123456789', Status: 'PENDING', SubmittedAt: new Date() } })
    .resolves({ ChangeInfo: { Id: '/change/C0123456789', Status: 'INSYNC', SubmittedAt: new Date() } });
}

/** The CNAME each write creates (each write replaces the record it read: DELETE of it, then CREATE, in one change). */
const upserts = () =>
  route53.commandCalls(ChangeResourceRecordSetsCommand).map(({ args: [command] }) => {
    const change = command.input.ChangeBatch!.Changes!.find((candidate) => candidate.Action === 'CREATE' && candidate.ResourceRecordSet!.Type === 'CNAME')!;
    return { zone: command.input.HostedZoneId, action: change.Action, name: change.ResourceRecordSet!.Name, type: change.ResourceRecordSet!.Type, ttl: change.ResourceRecordSet!.TTL, target: change.ResourceRecordSet!.ResourceRecords![0].Value };
  });

function run(region: string, event: unknown, deadlineMs = 120_000, target: 'regional-writer' | 'global-writer' = 'regional-writer') {
  const config = configFor(region, target);
  const trigger = classifyTrigger(event, config) as Trigger;
  const fake = fakeRuntime();
  return { fake, result: reconcile(clients, fake.runtime, config, trigger, fake.deadlineIn(deadlineMs)) };
}

beforeEach(() => {
  rds.reset();
  route53.reset();
});

describe('the runtime these tests run the handler on', () => {
  test('is the Node.js major version the Lambda function runs on', () => {
    expect(`nodejs${process.versions.node.split('.')[0]}.x`).toBe(HANDLER_RUNTIME);
  });
});

describe('writer-dns handler', () => {
  describe('classifyTrigger', () => {
    const config = configFor(CENTRAL);
    test.each([
      ['switchover finished', switchoverFinished(CENTRAL), { kind: 'writer-moved', eventId: 'RDS-EVENT-0185', cluster: clusterId(CENTRAL) }],
      ['failover completed', failoverCompleted(CENTRAL), { kind: 'writer-moved', eventId: 'RDS-EVENT-0238' }],
      ['failover with no instances', failoverNoInstances(CENTRAL), { kind: 'writer-moved', eventId: 'RDS-EVENT-0519' }],
      ['the reconcile schedule', scheduledEvent(CENTRAL), { kind: 'schedule', time: '2026-11-21T10:45:00Z' }],
      ['an event for another cluster', rdsClusterEvent('RDS-EVENT-0238', CENTRAL, 'Global failover completed.', 'billing-db-eu-central-1'), { kind: 'ignored', reason: expect.stringMatching(/billing-db-eu-central-1 is not a member of keycloak-prod/) }],
      ['another event of a member', rdsClusterEvent('RDS-EVENT-0171', CENTRAL, 'DB cluster deleted'), { kind: 'ignored', reason: expect.stringMatching(/RDS-EVENT-0171 does not mean the writer moved/) }],
      ['not an RDS event', { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, { kind: 'ignored' }],
      ['no event at all', undefined, { kind: 'ignored' }],
    ])('%s', (_name, event, expected) => {
      expect(classifyTrigger(event, config)).toMatchObject(expected);
    });
  });

  describe('decide', () => {
    const facts = (writerRegion: string | undefined, record = writerEndpoint(WEST)) => ({
      globalCluster: globalCluster(writerRegion),
      ownCluster: memberCluster(CENTRAL),
      record: { target: record, ttlSeconds: 5 },
    });

    test('the writer moved here: write this cluster endpoint', () => {
      expect(decide(facts(CENTRAL), configFor(CENTRAL))).toEqual({ action: 'upsert', target: writerEndpoint(CENTRAL), previous: writerEndpoint(WEST) });
    });

    test('the record already names the writer: keep it, whatever the letter case or trailing dot', () => {
      expect(decide(facts(CENTRAL, `${writerEndpoint(CENTRAL).toUpperCase()}.`), configFor(CENTRAL))).toMatchObject({ action: 'keep' });
    });

    test('a different TTL is rewritten', () => {
      const withOldTtl = { ...facts(CENTRAL, writerEndpoint(CENTRAL)), record: { target: writerEndpoint(CENTRAL), ttlSeconds: 60 } };
      expect(decide(withOldTtl, configFor(CENTRAL))).toMatchObject({ action: 'upsert' });
    });

    test('the writer is elsewhere: leave the record to that Region', () => {
      expect(decide(facts(WEST), configFor(CENTRAL))).toMatchObject({ action: 'skip', reason: expect.stringMatching(/is in eu-west-1/) });
    });

    test('a writer cluster that is not available is waited for', () => {
      const modifying = { ...facts(CENTRAL), ownCluster: memberCluster(CENTRAL, { Status: 'failing-over' }) };
      expect(decide(modifying, configFor(CENTRAL))).toMatchObject({ action: 'wait', reason: expect.stringMatching(/is failing-over, not available/) });
    });

    test('a member detached and promoted in this Region is written, with an alarm, whatever the target', () => {
      const detached = { ...facts(WEST), ownCluster: memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined }) };
      detached.globalCluster.GlobalClusterMembers = detached.globalCluster.GlobalClusterMembers!.filter((member) => member.IsWriter);
      for (const target of ['regional-writer', 'global-writer'] as const) {
        expect(decide(detached, configFor(CENTRAL, target))).toMatchObject({
          action: 'upsert',
          target: writerEndpoint(CENTRAL),
          alarm: expect.stringMatching(/was detached from global cluster keycloak-prod and promoted/),
        });
      }
    });

    test('a member that is still replicating is not taken for a detached writer', () => {
      const replica = { ...facts(WEST), ownCluster: memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined, ReplicationSourceIdentifier: clusterArn(WEST) }) };
      replica.globalCluster.GlobalClusterMembers = replica.globalCluster.GlobalClusterMembers!.filter((member) => member.IsWriter);
      expect(decide(replica, configFor(CENTRAL))).toMatchObject({ action: 'skip' });
    });

    test('a writer in this Region that is not our member cluster is refused', () => {
      const foreign = { ...facts(CENTRAL), ownCluster: memberCluster(CENTRAL, { DBClusterArn: clusterArn(CENTRAL, 'other') }) };
      expect(decide(foreign, configFor(CENTRAL))).toMatchObject({ action: 'fail' });
    });
  });

  describe('reconcile', () => {
    test.each([
      ['switchover finished', switchoverFinished],
      ['failover completed', failoverCompleted],
      ['failover completed with no instances', failoverNoInstances],
    ])('GIVEN %s in eu-central-1 THEN its function replaces the record with the new writer endpoint and follows the change to INSYNC', async (_name, event) => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      const { result } = run(CENTRAL, event(CENTRAL));
      await expect(result).resolves.toMatchObject({ decision: { action: 'upsert', target: writerEndpoint(CENTRAL) }, attempts: 1, inSyncAfterMs: 2_000 });
      expect(upserts()).toEqual([{ zone: ZONE, action: 'CREATE', name: RECORD, type: 'CNAME', ttl: 5, target: writerEndpoint(CENTRAL) }]);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input.ChangeBatch!.Comment).toMatch(/RDS-EVENT-0\d+ .* on keycloak-prod-eu-central-1; was keycloak-prod-eu-west-1/);
    });

    test('GIVEN the same event delivered twice THEN the record is written once', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) } });
      route53.on(ListResourceRecordSetsCommand).resolvesOnce(recordSets(writerEndpoint(WEST))).resolves(recordSets(`${writerEndpoint(CENTRAL)}.`));
      await run(CENTRAL, failoverCompleted(CENTRAL)).result;
      await expect(run(CENTRAL, failoverCompleted(CENTRAL)).result).resolves.toMatchObject({ decision: { action: 'keep' } });
      expect(upserts()).toHaveLength(1);
    });

    test('GIVEN a stale event after the record is already right THEN nothing is written', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(CENTRAL) });
      await expect(run(CENTRAL, switchoverFinished(CENTRAL)).result).resolves.toMatchObject({ decision: { action: 'keep' } });
      expect(upserts()).toEqual([]);
    });

    test('GIVEN the writer is in another Region THEN this function writes nothing', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [WEST]: memberCluster(WEST) }, record: writerEndpoint(WEST) });
      await expect(run(WEST, scheduledEvent(WEST)).result).resolves.toMatchObject({ decision: { action: 'skip' } });
      expect(upserts()).toEqual([]);
    });

    test('GIVEN a failover in progress THEN it waits with backoff and writes once it completes', async () => {
      given({ clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST), global: globalCluster(CENTRAL) });
      const inProgress = globalCluster(WEST, { FailoverState: { Status: 'failing-over', FromDbClusterArn: clusterArn(WEST), ToDbClusterArn: clusterArn(CENTRAL), IsDataLossAllowed: true } });
      rds.on(DescribeGlobalClustersCommand)
        .resolvesOnce({ GlobalClusters: [inProgress] })
        .resolvesOnce({ GlobalClusters: [inProgress] })
        .resolvesOnce({ GlobalClusters: [globalCluster(undefined)] })
        .resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      const { fake, result } = run(CENTRAL, scheduledEvent(CENTRAL));
      await expect(result).resolves.toMatchObject({ decision: { action: 'upsert', target: writerEndpoint(CENTRAL) }, attempts: 4 });
      expect(fake.sleeps.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
      expect(upserts()).toHaveLength(1);
    });

    test('GIVEN a failover that never completes THEN it fails loudly at the deadline and never writes a reader', async () => {
      given({ clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST), global: globalCluster(CENTRAL, { FailoverState: { Status: 'pending', FromDbClusterArn: clusterArn(WEST), ToDbClusterArn: clusterArn(CENTRAL) } }) });
      const { fake, result } = run(CENTRAL, failoverCompleted(CENTRAL), 60_000);
      await expect(result).rejects.toThrow(WriterNotSettledError);
      await expect(result).rejects.toThrow(/gave up after \d+ attempts: a switchover or failover is pending/);
      expect(fake.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(60_000);
      expect(upserts()).toEqual([]);
    });

    test('GIVEN no member is the writer yet THEN it waits, and fails at the deadline', async () => {
      given({ global: globalCluster(undefined), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      await expect(run(CENTRAL, failoverCompleted(CENTRAL), 10_000).result).rejects.toThrow(/no member of keycloak-prod is the writer yet/);
      expect(upserts()).toEqual([]);
    });

    test('GIVEN AWS throttles reads and the write THEN it backs off and still converges', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      rds.on(DescribeGlobalClustersCommand).rejectsOnce(throttled()).resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ChangeResourceRecordSetsCommand)
        .rejectsOnce(new PriorRequestNotComplete({ message: 'The request was rejected because Route 53 was still processing a prior request.', $metadata: { httpStatusCode: 400 } }))
        .resolves({ ChangeInfo: { Id: '/change/C0123456789', Status: 'PENDING', SubmittedAt: new Date() } });
      const { fake, result } = run(CENTRAL, failoverCompleted(CENTRAL));
      await expect(result).resolves.toMatchObject({ decision: { action: 'upsert' }, attempts: 3 });
      expect(fake.sleeps.slice(0, 2)).toEqual([1_000, 2_000]);
      expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(2);
    });

    test('GIVEN an error that is not throttling THEN it is not swallowed', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      rds.on(DescribeGlobalClustersCommand).rejects(Object.assign(new Error('User is not authorized to perform: rds:DescribeGlobalClusters'), { name: 'AccessDenied' }));
      await expect(run(CENTRAL, failoverCompleted(CENTRAL)).result).rejects.toThrow(/not authorized/);
    });

    test('GIVEN the global cluster does not exist THEN it alarms', async () => {
      given({ clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      await expect(run(CENTRAL, scheduledEvent(CENTRAL)).result).rejects.toThrow(new WriterDnsAlarm('global cluster keycloak-prod does not exist'));
    });

    describe('WHEN the record targets the global writer endpoint', () => {
      test('THEN a record on the global endpoint is kept through a failover', async () => {
        given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: `${GLOBAL_ENDPOINT}.` });
        await expect(run(CENTRAL, failoverCompleted(CENTRAL), 120_000, 'global-writer').result).resolves.toMatchObject({ decision: { action: 'keep', target: GLOBAL_ENDPOINT } });
        expect(upserts()).toEqual([]);
      });

      test('THEN a record that drifted is put back on the global endpoint', async () => {
        given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
        await run(CENTRAL, scheduledEvent(CENTRAL), 120_000, 'global-writer').result;
        expect(upserts()).toEqual([expect.objectContaining({ target: GLOBAL_ENDPOINT })]);
      });

      test('THEN after a detach-and-promote the record names the promoted cluster and the run alarms', async () => {
        const detached = memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined });
        const withoutCentral = globalCluster(WEST, { GlobalClusterMembers: [{ DBClusterArn: clusterArn(WEST), IsWriter: true, Readers: [] }] });
        given({ global: withoutCentral, clusters: { [CENTRAL]: detached }, record: GLOBAL_ENDPOINT });
        await expect(run(CENTRAL, scheduledEvent(CENTRAL), 120_000, 'global-writer').result).rejects.toThrow(
          /keycloak-prod-eu-central-1 was detached from global cluster keycloak-prod and promoted; .*global writer endpoint cannot serve it/,
        );
        expect(upserts()).toEqual([expect.objectContaining({ target: writerEndpoint(CENTRAL) })]);
      });
    });
  });

  describe('the default target: Route 53 writes a managed move needs', () => {
    test.each<[string, 'global-writer' | 'regional-writer', number, (region: string) => unknown]>([
      ['switchover', 'global-writer', 0, switchoverFinished],
      ['failover', 'global-writer', 0, failoverCompleted],
      ['switchover', 'regional-writer', 1, switchoverFinished],
      ['failover', 'regional-writer', 1, failoverCompleted],
    ])('GIVEN a managed %s with the %s target THEN the handlers of both Regions write Route 53 %i time(s)', async (_move, target, writes, event) => {
      // The record as it stood before the move: the global endpoint, or the old writer's endpoint.
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL), [WEST]: memberCluster(WEST) }, record: target === 'global-writer' ? `${GLOBAL_ENDPOINT}.` : writerEndpoint(WEST) });
      for (const region of [WEST, CENTRAL]) await run(region, event(region), 120_000, target).result;
      expect(upserts()).toHaveLength(writes);
    });
  });

  describe('createHandler', () => {
    const env = {
      GLOBAL_CLUSTER_IDENTIFIER: 'keycloak-prod',
      OWN_CLUSTER_IDENTIFIER: clusterId(CENTRAL),
      MEMBER_CLUSTER_IDENTIFIERS: [clusterId(WEST), clusterId(CENTRAL)].join(','),
      AWS_REGION: CENTRAL,
      HOSTED_ZONE_ID: ZONE,
      RECORD_NAME: `${RECORD.toUpperCase()}.`,
      RECORD_TTL_SECONDS: '5',
      WRITER_TARGET: 'regional-writer',
    };
    const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
    const handlerWith = () => {
      const { runtime } = fakeRuntime();
      const errors: unknown[] = [];
      const handler = createHandler({ config: loadConfig(env), clients, runtime: { ...runtime, logger: { ...runtime.logger, error: (_m: string, e: unknown) => errors.push(e) } } });
      return { handler, errors };
    };

    test('an event for another cluster is ignored without calling AWS', async () => {
      const event = rdsClusterEvent('RDS-EVENT-0238', CENTRAL, 'Global failover completed.', 'billing-db-eu-central-1');
      await expect(handlerWith().handler(event, context)).resolves.toEqual({ ignored: expect.stringMatching(/not a member/) });
      expect(rds.calls()).toHaveLength(0);
      expect(route53.calls()).toHaveLength(0);
    });

    test('a switchover event is reconciled within the time Lambda has left', async () => {
      given({ global: globalCluster(CENTRAL), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(CENTRAL) });
      await expect(handlerWith().handler(switchoverFinished(CENTRAL), context)).resolves.toMatchObject({ decision: { action: 'keep' } });
      expect(rds.commandCalls(DescribeGlobalClustersCommand)[0].args[0].input).toEqual({ GlobalClusterIdentifier: 'keycloak-prod' });
    });

    test('a run that cannot settle is logged and rethrown, so Lambda retries and then dead-letters it', async () => {
      given({ global: globalCluster(undefined), clusters: { [CENTRAL]: memberCluster(CENTRAL) }, record: writerEndpoint(WEST) });
      const { handler, errors } = handlerWith();
      await expect(handler(failoverCompleted(CENTRAL), context)).rejects.toThrow(WriterNotSettledError);
      expect(errors).toEqual([expect.any(WriterNotSettledError)]);
    });

    test('configuration is checked at cold start, naming every problem', () => {
      expect(() => loadConfig({ ...env, HOSTED_ZONE_ID: undefined, WRITER_TARGET: 'primary', RECORD_TTL_SECONDS: 'five' })).toThrow(
        /HOSTED_ZONE_ID is not set; RECORD_TTL_SECONDS must be a whole number of seconds, is "five"; WRITER_TARGET must be regional-writer or global-writer, is "primary"/,
      );
      expect(loadConfig(env).recordName).toBe(RECORD);
    });
  });
});
