/**
 * No split brain through the name: after a detach-and-promote the name is pinned to the promoted
 * cluster, the old primary's Region coming back as writer of the old global cluster never takes
 * it back, and only an operator's explicit choice in the CLI moves it. Route 53 here is a zone
 * that applies a change whole or not at all, as Route 53 does, so races are real.
 */
import { DescribeDBClustersCommand, DescribeEventsCommand, DescribeGlobalClustersCommand, GlobalClusterNotFoundFault, RDSClient } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { NAME, ZONE_ID, Zone } from './route53-zone';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DBCluster, GlobalCluster } from '@aws-sdk/client-rds';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run as cli } from '../cli/program';
import { createHandler } from '../functions/writer-dns/create-handler';
import { formatPin } from '../functions/writer-dns/aws';
import { decide } from '../functions/writer-dns/decide';
import { LoggerLike, reconcile } from '../functions/writer-dns/reconcile';
import { classifyTrigger, Trigger } from '../functions/writer-dns/trigger';
import { ACCOUNT, GLOBAL, GLOBAL_ENDPOINT, clusterArn, clusterId, configFor, memberCluster, scheduledEvent, writerEndpoint } from './writer-dns-fixtures';

const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';

/**
 * After a detach-and-promote: eu-central-1's cluster writes on its own; eu-west-1 came back and is
 * still the writer of the old global cluster, which eu-central-1 has left. Each Region answers for itself.
 */
function twoWriters() {
  const rds = mockClient(RDSClient);
  const oldGlobal: GlobalCluster = {
    GlobalClusterIdentifier: GLOBAL,
    Endpoint: GLOBAL_ENDPOINT,
    Status: 'available',
    GlobalClusterMembers: [{ DBClusterArn: clusterArn(WEST), IsWriter: true, Readers: [] }],
  };
  const clusters: Record<string, DBCluster> = {
    [WEST]: memberCluster(WEST),
    [CENTRAL]: memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined }),
  };
  rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [oldGlobal] });
  rds.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: id }) => {
    const region = Object.keys(clusters).find((candidate) => id === clusterId(candidate) || id === clusterArn(candidate));
    return { DBClusters: region ? [clusters[region]] : [] };
  });
  rds.on(DescribeEventsCommand).resolves({ Events: [] });
  return { rds, clusters };
}

function fakeRuntime() {
  const logs: Array<{ message: string; extra: unknown[] }> = [];
  let now = Date.parse('2026-12-01T10:00:00Z');
  const logger: LoggerLike = { info: (message, ...extra) => logs.push({ message, extra }), warn: (message, ...extra) => logs.push({ message, extra }) };
  return { logs, runtime: { logger, now: () => now, sleep: async (ms: number) => void (now += ms) } };
}

/** One run of `region`'s handler against prod's record, as the schedule starts it. */
async function handlerRun(region: string) {
  const config = { ...configFor(region, 'global-writer'), recordName: NAME, hostedZoneId: ZONE_ID };
  const clients = { rds: new RDSClient({ region }), route53: new Route53Client({ region }) };
  const { runtime } = fakeRuntime();
  return reconcile(clients, runtime, config, classifyTrigger(scheduledEvent(region), config) as Trigger, runtime.now() + 120_000)
    .then((outcome) => ({ outcome, error: undefined }), (error: Error) => ({ outcome: undefined, error }));
}

function operator(argv: string[]) {
  mockClient(STSClient).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/dba/alice`, UserId: 'x' });
  const out: string[] = [];
  const err: string[] = [];
  return cli(argv, { aws: awsClients(), env: {}, clock: { now: () => Date.parse('2026-12-01T11:00:00Z'), sleep: async () => undefined }, io: { out: (line) => out.push(line), err: (line) => err.push(line) } })
    .then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('writer-dns split-brain guard', () => {
  let zone: Zone;
  beforeEach(() => {
    zone = new Zone();
    zone.mock();
  });

  test('GIVEN a detach-and-promote THEN the promoted Region points the name at its cluster and pins it, in one change', async () => {
    twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    const { error } = await handlerRun(CENTRAL);
    expect(error?.message).toMatch(/detached from global cluster keycloak-prod and promoted; the record names its writer endpoint, pinned there/);
    expect(zone.target(NAME)).toBe(writerEndpoint(CENTRAL));
    expect(zone.changes).toEqual([[
      { Action: 'DELETE', Type: 'CNAME', Name: NAME, Value: GLOBAL_ENDPOINT },
      { Action: 'CREATE', Type: 'CNAME', Name: NAME, Value: writerEndpoint(CENTRAL) },
      { Action: 'CREATE', Type: 'TXT', Name: `_writer-pin.${NAME}`, Value: expect.stringContaining(`"endpoint=${writerEndpoint(CENTRAL)}" "cluster=${clusterArn(CENTRAL)}" "by=writer-dns/${CENTRAL}"`) },
    ]]);
  });

  test('GIVEN a blue/green pin on a member of the global cluster the handler follows (blueGreen.live) THEN it releases the pin and puts the name on the writer, in one change', async () => {
    const rds = mockClient(RDSClient);
    rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [{ GlobalClusterIdentifier: GLOBAL, Endpoint: GLOBAL_ENDPOINT, GlobalClusterMembers: [
      { DBClusterArn: clusterArn(WEST), IsWriter: true, Readers: [] }, { DBClusterArn: clusterArn(CENTRAL), IsWriter: false, Readers: [] }] }] });
    rds.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: id }) => ({ DBClusters: [memberCluster(id === clusterId(WEST) ? WEST : CENTRAL)] }));
    // As the cut-over left it: the name on green's cluster endpoint, pinned there by the runner.
    zone.cname(NAME, writerEndpoint(WEST));
    const pinValue = formatPin({ endpoint: writerEndpoint(WEST), cluster: clusterArn(WEST), by: 'bluegreen cutover arn:aws:sts::1:assumed-role/dba/alice', at: '2026-12-01T10:00:00.000Z' });
    zone.records.set(`_writer-pin.${NAME} TXT`, { Name: `_writer-pin.${NAME}`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: pinValue }] });

    const { error } = await handlerRun(WEST);
    expect(error).toBeUndefined();
    expect(zone.target(NAME)).toBe(GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toBeUndefined();
    expect(zone.changes).toEqual([[
      { Action: 'DELETE', Type: 'CNAME', Name: NAME, Value: writerEndpoint(WEST) },
      { Action: 'CREATE', Type: 'CNAME', Name: NAME, Value: GLOBAL_ENDPOINT },
      { Action: 'DELETE', Type: 'TXT', Name: `_writer-pin.${NAME}`, Value: pinValue },
    ]]);
    // The other Region's handler then finds nothing to do.
    await handlerRun(CENTRAL);
    expect(zone.changes).toHaveLength(1);
    rds.restore();
  });

  test('GIVEN the old primary back as writer of the old global cluster THEN its handler never takes the name back, and alarms on every run', async () => {
    twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    await handlerRun(CENTRAL);
    for (let run = 0; run < 3; run++) {
      const west = await handlerRun(WEST);
      expect(west.error?.message).toMatch(/is pinned to arn:aws:rds:eu-central-1:123456789012:cluster:keycloak-prod-eu-central-1 .*this Region's writer would take it \(keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com\): two writers may be taking writes/);
      const central = await handlerRun(CENTRAL);
      expect(central.error?.message).toMatch(/detached from global cluster/);
    }
    expect(zone.changes).toHaveLength(1);
    expect(zone.target(NAME)).toBe(writerEndpoint(CENTRAL));
  });

  test('GIVEN the old primary\'s handler decided to take the name WHEN the promoted Region pins it first THEN the old primary\'s write fails whole and it looks again', async () => {
    twoWriters();
    zone.cname(NAME, writerEndpoint(WEST));
    // eu-west-1 has read the record (it names eu-west-1's cluster, not the global endpoint it wants) and writes; eu-central-1 gets in first.
    zone.beforeNextChange = () => {
      zone.cname(NAME, writerEndpoint(CENTRAL));
      zone.records.set(`_writer-pin.${NAME} TXT`, { Name: `_writer-pin.${NAME}`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"endpoint=${writerEndpoint(CENTRAL)}" "cluster=${clusterArn(CENTRAL)}" "by=writer-dns/${CENTRAL}" "at=2026-12-01T10:00:00.000Z"` }] });
    };
    const west = await handlerRun(WEST);
    expect(west.error?.message).toMatch(/pinned to .*keycloak-prod-eu-central-1.*two writers may be taking writes/);
    expect(zone.target(NAME)).toBe(writerEndpoint(CENTRAL));
    expect(zone.changes).toEqual([]);
  });

  test('the CLI shows both writers and refuses to act without an explicit choice', async () => {
    twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    await handlerRun(CENTRAL);
    const shown = await operator(['writer-dns', 'prod']);
    expect(shown.code).toBe(ExitCode.refused);
    expect(shown.out).toMatch(/eu-west-1\s+keycloak-prod-eu-west-1\s+writer/);
    expect(shown.out).toMatch(/eu-central-1\s+keycloak-prod-eu-central-1\s+standalone writer/);
    expect(shown.out).toMatch(/pinned to arn:aws:rds:eu-central-1:123456789012:cluster:keycloak-prod-eu-central-1 by writer-dns\/eu-central-1/);
    expect(shown.err).toMatch(/2 clusters take writes: keycloak-prod-eu-west-1 in eu-west-1 \(writer\), keycloak-prod-eu-central-1 in eu-central-1 \(standalone writer\). Choose which one the name leads to with --to <region>; nothing was changed/);
    const release = await operator(['writer-dns', 'prod', '--release']);
    expect(release.code).toBe(ExitCode.refused);
    expect(release.err).toMatch(/releasing the pin would let each Region's handler take the name/);
    expect(zone.changes).toHaveLength(1);
  });

  test('the operator\'s choice moves the name and pins it there; the promoted Region\'s handler then leaves it alone', async () => {
    twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    await handlerRun(CENTRAL);
    const chosen = await operator(['writer-dns', 'prod', '--to', WEST]);
    expect(chosen.code).toBe(ExitCode.ok);
    expect(chosen.err).toMatch(/now names keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com \(keycloak-prod-eu-west-1 in eu-west-1\), pinned/);
    expect(zone.target(NAME)).toBe(GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toContain('by=operator arn:aws:sts::123456789012:assumed-role/dba/alice');
    const central = await handlerRun(CENTRAL);
    expect(central.error?.message).toMatch(/this Region's writer would take it .*two writers may be taking writes/);
    expect((await handlerRun(WEST)).error).toBeUndefined();
    expect(zone.target(NAME)).toBe(GLOBAL_ENDPOINT);
  });

  test('once one writer is left, --release hands the name back to the handlers', async () => {
    const { clusters } = twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    await handlerRun(CENTRAL);
    await operator(['writer-dns', 'prod', '--to', WEST]);
    // The operator deleted the promoted cluster after taking what was needed from it.
    delete clusters[CENTRAL];
    const released = await operator(['writer-dns', 'prod', '--release']);
    expect(released.code).toBe(ExitCode.ok);
    expect(zone.pin(NAME)).toBeUndefined();
    expect(zone.target(NAME)).toBe(GLOBAL_ENDPOINT);
    expect((await handlerRun(WEST)).outcome?.decision).toMatchObject({ action: 'keep', target: GLOBAL_ENDPOINT });
  });

  test('a pinned name someone changed by hand is not changed back by a handler: it alarms', async () => {
    twoWriters();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    await handlerRun(CENTRAL);
    zone.cname(NAME, 'somewhere-else.example.com');
    const west = await handlerRun(WEST);
    expect(west.error?.message).toMatch(/is pinned to .* but names somewhere-else.example.com; no handler changes a pinned name/);
    expect(zone.target(NAME)).toBe('somewhere-else.example.com');
  });
});

describe('writer-dns handler on RDS-EVENT-0397', () => {
  test('logs how long after the move the global writer endpoint followed, and how late the event came', async () => {
    const rds = mockClient(RDSClient);
    rds.on(DescribeGlobalClustersCommand).rejects(new GlobalClusterNotFoundFault({ message: 'x', $metadata: {} }));
    rds.on(DescribeEventsCommand).resolves({ Events: [
      { SourceIdentifier: clusterId(CENTRAL), SourceType: 'db-cluster', Message: `Global switchover to DB cluster ${clusterId(CENTRAL)} in Region ${CENTRAL} started.`, Date: new Date('2026-11-21T10:40:00Z') },
      { SourceIdentifier: clusterId(CENTRAL), SourceType: 'db-cluster', Message: `Global switchover to DB cluster ${clusterId(CENTRAL)} in Region ${CENTRAL} finished.`, Date: new Date('2026-11-21T10:42:10Z') },
    ] });
    mockClient(Route53Client).on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 1 });
    const { logs, runtime } = fakeRuntime();
    const handler = createHandler({ config: configFor(CENTRAL, 'global-writer'), clients: { rds: new RDSClient({}), route53: new Route53Client({}) }, runtime: { ...runtime, logger: { ...runtime.logger, error: () => undefined } } });
    const event = { source: 'aws.rds', 'detail-type': 'RDS DB Cluster Event', time: '2026-11-21T10:42:24Z', detail: { EventID: 'RDS-EVENT-0397', SourceIdentifier: clusterId(CENTRAL), Message: 'Aurora finished changing the DNS name that the global writer endpoint resolves to.' } };
    await handler(event, { getRemainingTimeInMillis: () => 30_000 } as unknown as Context).catch(() => undefined);
    expect(logs.find((log) => log.message === 'global writer endpoint moved')?.extra[0]).toMatchObject({ cluster: clusterId(CENTRAL), changedAt: '2026-11-21T10:42:24Z', afterMoveMs: 14_000 });
  });

  test('the paging events are the ones the RDS event table names', () => {
    const { PAGING_EVENTS, GLOBAL_ENDPOINT_MOVED_EVENT } = jest.requireActual('../functions/writer-dns/trigger');
    expect(Object.keys(PAGING_EVENTS.cluster)).toEqual(['RDS-EVENT-0187', 'RDS-EVENT-0239']);
    expect(Object.keys(PAGING_EVENTS.instance)).toEqual(['RDS-EVENT-0391']);
    expect(GLOBAL_ENDPOINT_MOVED_EVENT).toBe('RDS-EVENT-0397');
  });
});

describe('decide with a pin', () => {
  const west = { ...configFor(WEST, 'global-writer'), recordName: NAME, hostedZoneId: ZONE_ID };
  const central = { ...configFor(CENTRAL, 'global-writer'), recordName: NAME, hostedZoneId: ZONE_ID };
  const oldGlobal = { GlobalClusterIdentifier: GLOBAL, Endpoint: GLOBAL_ENDPOINT, GlobalClusterMembers: [{ DBClusterArn: clusterArn(WEST), IsWriter: true, Readers: [] }] };
  const pin = (by: string, endpoint = writerEndpoint(CENTRAL)) => ({ endpoint, cluster: clusterArn(CENTRAL), by, at: '2026-12-01T10:00:00.000Z' });
  const record = (target: string) => ({ target, ttlSeconds: 5 });

  test('a pin a blue/green cut-over wrote keeps the name where it is, without alarming (blue is closed: there are not two writers)', () => {
    expect(decide({ globalCluster: oldGlobal, ownCluster: memberCluster(WEST), record: record(writerEndpoint(CENTRAL)), pin: pin('bluegreen cutover arn:aws:sts::1:assumed-role/dba/alice') }, west))
      .toEqual({ action: 'keep', target: writerEndpoint(CENTRAL) });
    expect(decide({ globalCluster: oldGlobal, ownCluster: memberCluster(WEST), record: record(writerEndpoint(CENTRAL)), pin: pin('operator arn:aws:sts::1:assumed-role/dba/bluegreen cutover') }, west))
      .toMatchObject({ action: 'keep', alarm: expect.stringMatching(/two writers may be taking writes/) });
  });

  test('a blue/green pin on a member of the followed global cluster is released, also when the name is already right; an operator\'s is not', () => {
    const followed = { GlobalClusterIdentifier: GLOBAL, Endpoint: GLOBAL_ENDPOINT, GlobalClusterMembers: [{ DBClusterArn: clusterArn(CENTRAL), IsWriter: true, Readers: [] }] };
    const facts = (by: string, target: string) => ({ globalCluster: followed, ownCluster: memberCluster(CENTRAL), record: record(target), pin: pin(by, target) });
    expect(decide(facts('bluegreen cutover arn:aws:sts::1:assumed-role/dba/alice', writerEndpoint(CENTRAL)), central))
      .toEqual({ action: 'upsert', target: GLOBAL_ENDPOINT, previous: writerEndpoint(CENTRAL), release: true });
    expect(decide(facts('bluegreen cutover arn:aws:sts::1:assumed-role/dba/alice', GLOBAL_ENDPOINT), central))
      .toEqual({ action: 'upsert', target: GLOBAL_ENDPOINT, previous: GLOBAL_ENDPOINT, release: true });
    // A secondary's handler leaves the writing to the writer's Region.
    expect(decide({ ...facts('bluegreen cutover x', writerEndpoint(CENTRAL)), ownCluster: memberCluster(WEST) }, west)).toMatchObject({ action: 'skip' });
    expect(decide(facts('operator arn:aws:sts::1:assumed-role/dba/alice', writerEndpoint(CENTRAL)), central)).toMatchObject({ action: 'keep', target: writerEndpoint(CENTRAL) });
    // No global cluster to follow (not created yet, or gone): nothing is released.
    expect(decide({ ...facts('bluegreen cutover x', writerEndpoint(CENTRAL)), globalCluster: undefined }, central)).toEqual({ action: 'keep', target: writerEndpoint(CENTRAL), alarm: undefined });
  });

  test('a pinned name with no record at all is not recreated by a handler: it alarms', () => {
    expect(decide({ globalCluster: oldGlobal, ownCluster: memberCluster(WEST), record: undefined, pin: pin('writer-dns/eu-central-1') }, west))
      .toMatchObject({ action: 'fail', reason: expect.stringMatching(/but names nothing; no handler changes a pinned name/) });
  });

  test('a detached cluster still promoting, or still listed by the global cluster, is not pinned yet', () => {
    const promoting = memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined, Status: 'modifying' });
    expect(decide({ globalCluster: oldGlobal, ownCluster: promoting, record: record(GLOBAL_ENDPOINT) }, central)).toMatchObject({ action: 'skip' });
    const stillListed = { ...oldGlobal, GlobalClusterMembers: [...oldGlobal.GlobalClusterMembers, { DBClusterArn: clusterArn(CENTRAL), IsWriter: false, Readers: [] }] };
    expect(decide({ globalCluster: stillListed, ownCluster: memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined }), record: record(GLOBAL_ENDPOINT) }, central)).toMatchObject({ action: 'skip' });
    expect(decide({ globalCluster: oldGlobal, ownCluster: memberCluster(CENTRAL, { GlobalClusterIdentifier: undefined }), record: record(GLOBAL_ENDPOINT) }, central))
      .toMatchObject({ action: 'upsert', target: writerEndpoint(CENTRAL), pin: { cluster: clusterArn(CENTRAL) } });
  });
});

