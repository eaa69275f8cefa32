/**
 * The next upgrade from a live green, roles swapped: the cut-over's last step puts the writer's
 * name on blue made from green (pinned, so green's handlers keep it there), the rollback puts it
 * back on green's writer (unpinned), and a rollback whose name the configuration no longer matches
 * is refused before anything moves.
 */
import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients, realClock } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { nameStepProblem, pointNameAtLive, pointNameAtTarget, reachedSlotsProblem } from '../cli/commands/writer-dns';
import { loadEnvironment } from '../cli/environment';
import { environments } from '../environments';
import { reconcile } from '../functions/writer-dns/reconcile';
import { NAME, ZONE_ID, Zone } from './route53-zone';
import { ACCOUNT, configFor } from './writer-dns-fixtures';
import { Writer, missingOn, rowsOf, startKeycloakLike } from './bluegreen-writer';
import { PostgresServer, clonePostgres, postgresBinDir } from './postgres-harness';
import { BlueGreenInput, prodEnvironmentsFile, prodWith as withBlueGreen } from './prod-blue-green';

const prod = environments.find((env) => env.name === 'prod')!;
/** Upgrade 2: green (16) is live, blue made again from it is global and caught up. */
const NEXT_UPGRADE: BlueGreenInput = { enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green', blueSource: 'green', blueGlobal: true };
/** The same once live was changed to blue: what an operator must not do while the rollback window is open. */
const LIVE_CHANGED: BlueGreenInput = { ...NEXT_UPGRADE, live: 'blue' };
const nextUpgrade = withBlueGreen(NEXT_UPGRADE);

const arn = (identifier: string, region = 'eu-west-1') => `arn:aws:rds:${region}:${ACCOUNT}:cluster:${identifier}`;
const endpoint = (identifier: string) => `${identifier}.cluster-c9akciq32x1p.eu-west-1.rds.amazonaws.com`;
const BLUE_GLOBAL_ENDPOINT = 'keycloak-prod.global-b1ue0000.global.rds.amazonaws.com';
const GREEN_GLOBAL_ENDPOINT = 'keycloak-prod-green.global-9reen000.global.rds.amazonaws.com';

/** An account where both global databases exist, each with its writer in eu-west-1. */
function givenBothGlobalDatabases() {
  const rds = mockClient(RDSClient);
  const members = { 'keycloak-prod': ['keycloak-prod-eu-west-1', 'keycloak-prod-eu-central-1'], 'keycloak-prod-green': ['keycloak-prod-eu-west-1-green', 'keycloak-prod-eu-central-1-green'] };
  for (const [global, [writer, reader]] of Object.entries(members)) {
    rds.on(DescribeGlobalClustersCommand, { GlobalClusterIdentifier: global }).resolves({ GlobalClusters: [{
      GlobalClusterIdentifier: global, Endpoint: global === 'keycloak-prod' ? BLUE_GLOBAL_ENDPOINT : GREEN_GLOBAL_ENDPOINT,
      GlobalClusterMembers: [{ DBClusterArn: arn(writer), IsWriter: true }, { DBClusterArn: arn(reader, 'eu-central-1'), IsWriter: false }],
    }] });
    for (const identifier of [writer, reader]) {
      const region = identifier.includes('eu-central-1') ? 'eu-central-1' : 'eu-west-1';
      rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: identifier }).resolves({ DBClusters: [{
        DBClusterIdentifier: identifier, DBClusterArn: arn(identifier, region), Status: 'available', Endpoint: endpoint(identifier), GlobalClusterIdentifier: global,
      }] });
    }
  }
  mockClient(STSClient).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/dba/alice`, UserId: 'x' });
  return rds;
}

describe('bluegreen name steps with the roles swapped (the next upgrade from a live green)', () => {
  const deps = { aws: awsClients(), clock: { now: () => Date.now(), sleep: async () => undefined } };
  const io = { out: () => undefined, err: () => undefined };
  let zone: Zone;

  beforeEach(() => {
    zone = new Zone();
    zone.mock();
    zone.cname(NAME, GREEN_GLOBAL_ENDPOINT);
    givenBothGlobalDatabases();
  });

  test('the cut-over puts the name on blue made from green, pinned, and green\'s handler keeps it there', async () => {
    expect(await nameStepProblem(nextUpgrade, deps, 'cutover')).toBeUndefined();
    const moved = await pointNameAtTarget(nextUpgrade, deps, io, 10_000);
    expect(moved).toMatchObject({ name: NAME, target: BLUE_GLOBAL_ENDPOINT, changed: true });
    expect(zone.target(NAME)).toBe(BLUE_GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toContain(`"cluster=${arn('keycloak-prod-eu-west-1')}" "by=bluegreen cutover arn:aws:sts::${ACCOUNT}:assumed-role/dba/alice"`);

    // Green's handler follows green (live: 'green'), whose writer is still in eu-west-1: the pin is on no member of it, so it keeps the name.
    const green = { ...configFor('eu-west-1', 'global-writer'), globalClusterIdentifier: 'keycloak-prod-green', ownClusterIdentifier: 'keycloak-prod-eu-west-1-green',
      memberClusterIdentifiers: ['keycloak-prod-eu-west-1-green', 'keycloak-prod-eu-central-1-green'], recordName: NAME, hostedZoneId: ZONE_ID };
    const reconciled = await reconcile({ rds: new RDSClient({ region: 'eu-west-1' }), route53: new Route53Client({ region: 'eu-west-1' }) },
      { logger: { info: () => undefined, warn: () => undefined }, ...deps.clock }, green, { kind: 'schedule', time: '' }, Date.now() + 60_000);
    expect(reconciled.decision).toEqual({ action: 'keep', target: BLUE_GLOBAL_ENDPOINT });
    expect(zone.target(NAME)).toBe(BLUE_GLOBAL_ENDPOINT);
  });

  test('the rollback puts the name back on green\'s writer, unpinned, and a re-run changes nothing', async () => {
    await pointNameAtTarget(nextUpgrade, deps, io, 10_000);
    expect(await nameStepProblem(nextUpgrade, deps, 'rollback')).toBeUndefined();
    expect(await pointNameAtLive(nextUpgrade, deps, io, 10_000)).toMatchObject({ target: GREEN_GLOBAL_ENDPOINT, changed: true });
    expect(zone.target(NAME)).toBe(GREEN_GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toBeUndefined();
    expect(await nameStepProblem(nextUpgrade, deps, 'rollback')).toBeUndefined();
    expect(await pointNameAtLive(nextUpgrade, deps, io, 10_000)).toMatchObject({ changed: false });
  });

  test('a rollback is refused when the configuration already calls the cut-over\'s target live', async () => {
    await pointNameAtTarget(nextUpgrade, deps, io, 10_000);
    const flipped = withBlueGreen(LIVE_CHANGED);
    expect(await nameStepProblem(flipped, deps, 'rollback')).toMatch(new RegExp(`is pinned to ${arn('keycloak-prod-eu-west-1')} by bluegreen cutover .*, and prod says that is the live database \\(blueGreen.live: 'blue'\\).*set live back and deploy prod-database first; nothing was changed`));
  });

  test('the first upgrade keeps its direction: blue to green, and nothing to cut over to once green is live and blue is the original', async () => {
    const first = withBlueGreen({ enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6' });
    zone.cname(NAME, BLUE_GLOBAL_ENDPOINT);
    expect(await pointNameAtTarget(first, deps, io, 10_000)).toMatchObject({ target: GREEN_GLOBAL_ENDPOINT });
    expect(zone.pin(NAME)).toContain(`"cluster=${arn('keycloak-prod-eu-west-1-green')}"`);
    const greenLive = withBlueGreen({ enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6', live: 'green' });
    expect(await nameStepProblem(greenLive, deps, 'cutover')).toMatch(/prod says green is live \(blueGreen.live: 'green'\) and blue is not made from it \(blueSource: 'new'\)/);
    await expect(pointNameAtTarget(greenLive, deps, io, 10_000)).rejects.toThrow(/blue is not made from it/);
  });

  test.each<[string, { blue?: string; green?: string }, RegExp | undefined]>([
    ['servers that are not Aurora (nothing to tell)', {}, undefined],
    ['the writes moving from green to blue made from it', { blue: 'keycloak-prod-eu-west-1-green-2', green: 'keycloak-prod-eu-west-1-1' }, undefined],
    ['the URLs swapped', { blue: 'keycloak-prod-eu-west-1-1', green: 'keycloak-prod-eu-west-1-green-1' },
      /^BLUEGREEN_BLUE_URL, the database the writes move from, reaches instance keycloak-prod-eu-west-1-1, which is no member of green \(keycloak-prod-green\)/],
    ['an instance numbered past 9', { blue: 'keycloak-prod-eu-west-1-green-12', green: 'keycloak-prod-eu-west-1-10' }, undefined],
    ['a copy of another environment', { blue: 'keycloak-prod-eu-west-1-green-1', green: 'keycloak-staging-eu-west-1-1' },
      /^BLUEGREEN_GREEN_URL, the copy, reaches instance keycloak-staging-eu-west-1-1, which is no member of blue \(keycloak-prod\)/],
  ])('the URLs\' instances against the configuration: %s', (_, reached, expected) => {
    const problem = reachedSlotsProblem(nextUpgrade, reached);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test('a cut-over pin of the upgrade before, on the live database, does not stop the next cut-over', async () => {
    // The first upgrade's pin, on green's member, not yet dropped by a handler.
    await pointNameAtTarget(withBlueGreen({ enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.6' }), deps, io, 10_000);
    expect(zone.pin(NAME)).toContain(`"cluster=${arn('keycloak-prod-eu-west-1-green')}"`);
    expect(await nameStepProblem(nextUpgrade, deps, 'cutover')).toBeUndefined();
    expect(await pointNameAtTarget(nextUpgrade, deps, io, 10_000)).toMatchObject({ target: BLUE_GLOBAL_ENDPOINT, changed: true });
  });

  test('the target that does not exist yet, and a live database without one writer, are refused with what to look at', async () => {
    const rds = mockClient(RDSClient);
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [] });
    await expect(pointNameAtTarget(nextUpgrade, deps, io, 10_000)).rejects.toThrow(/^blue cluster keycloak-prod-eu-west-1 in eu-west-1 does not exist or has no endpoint; is the prod-database stack deployed\?$/);
    await expect(pointNameAtTarget(withBlueGreen({ enabled: true, green: true }), deps, io, 10_000)).rejects.toThrow(/^green cluster keycloak-prod-eu-west-1-green in eu-west-1 does not exist or has no endpoint; is the prod-green stack deployed\?$/);
    await expect(pointNameAtLive(nextUpgrade, deps, io, 10_000)).rejects.toThrow(/^green's global cluster keycloak-prod-green has 0 writers \(none\): the name stays where it is/);
    expect(zone.changes).toEqual([]);
  });

  test('with the regional-writer target, or a green that is not global yet, the name goes to the copy\'s writer endpoint', async () => {
    const regional = loadEnvironment('prod', environments.map((env) => (env === prod ? { ...prod, writerDns: { ...prod.writerDns, target: 'regional-writer' }, blueGreen: NEXT_UPGRADE } : env)));
    expect(await pointNameAtTarget(regional, deps, io, 10_000)).toMatchObject({ target: endpoint('keycloak-prod-eu-west-1') });
    const greenAlone = withBlueGreen({ enabled: true, green: true });
    expect(await pointNameAtTarget(greenAlone, deps, io, 10_000)).toMatchObject({ target: endpoint('keycloak-prod-eu-west-1-green') });
  });

  test('with blue live and no green, there is nothing to cut over to, whatever the URLs reach', async () => {
    const blueOnly = withBlueGreen({ enabled: true });
    const expected = /^prod has no green to move the writes to \(blueGreen\.green, with greenClusters: 'kept'\); nothing was changed$/;
    expect(await nameStepProblem(blueOnly, deps, 'cutover')).toMatch(expected);
    expect(reachedSlotsProblem(blueOnly, { blue: 'keycloak-prod-eu-west-1-1', green: 'keycloak-prod-eu-west-1-green-1' })).toMatch(expected);
  });

  test('an operator\'s pin stops the cut-over before the freeze, not after it', async () => {
    zone.cname(NAME, GREEN_GLOBAL_ENDPOINT);
    zone.records.set(`_writer-pin.${NAME} TXT`, { Name: `_writer-pin.${NAME}`, Type: 'TXT', TTL: 5,
      ResourceRecords: [{ Value: `"endpoint=${GREEN_GLOBAL_ENDPOINT}" "cluster=${arn('keycloak-prod-eu-west-1-green')}" "by=arn:aws:sts::${ACCOUNT}:assumed-role/operator/bob" "at=2026-12-01T10:00:00.000Z"` }] });
    expect(await nameStepProblem(nextUpgrade, deps, 'cutover')).toMatch(/is pinned to .*keycloak-prod-eu-west-1-green by arn:aws:sts::123456789012:assumed-role\/operator\/bob at .*an operator's choice this step does not override .*; nothing was changed/);
    expect(zone.changes).toEqual([]);
  });
});

const query = rowsOf;

/** What Aurora answers on each instance; a stand-in server is told which one it plays. */
const playAuroraInstance = (server: PostgresServer, instance: string) =>
  query(server.url(), `CREATE OR REPLACE FUNCTION aurora_db_instance_identifier() RETURNS text LANGUAGE sql AS $$ SELECT '${instance}'::text $$`);

describe('the next upgrade from a live green on real PostgreSQL 15: blue cloned from green, cut over to under a writer, rolled back with nothing lost', () => {
  /** Green's writer, keycloak-prod-eu-west-1-green-1: it takes the writes since the first upgrade. */
  let greenSlot: PostgresServer;
  /** Blue made again as a clone of it (Aurora copy-on-write; here pg_basebackup and its manifest's LSN). */
  let blueSlot: PostgresServer | undefined;
  let onGreen: Writer;
  const zone = new Zone();
  const nextUpgradeFile = prodEnvironmentsFile(NEXT_UPGRADE);
  const liveChangedFile = prodEnvironmentsFile(LIVE_CHANGED);
  /** The roles, not the slots: BLUEGREEN_BLUE_URL is the database the writes move from (green's), BLUEGREEN_GREEN_URL the copy (blue's). */
  let env: Record<string, string>;
  const bluegreen = async (file: string, ...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['--environments', file, 'bluegreen', ...args], {
      aws: awsClients(), clock: realClock, env, io: { out: (line) => out.push(line), err: (line) => err.push(line) },
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    ({ server: greenSlot, writer: onGreen } = await startKeycloakLike('on-green'));
    await playAuroraInstance(greenSlot, 'keycloak-prod-eu-west-1-green-1');
    // Until the clone exists, the copy's URL is only a placeholder: prepare works on the side the writes move from.
    env = { BLUEGREEN_BLUE_URL: greenSlot.url('keycloak'), BLUEGREEN_GREEN_URL: greenSlot.url('keycloak'), BLUEGREEN_REPLICATION_PASSWORD: 'replication-test-only', BLUEGREEN_PG_BINDIR: postgresBinDir() };
    zone.mock();
    zone.cname(NAME, GREEN_GLOBAL_ENDPOINT);
    givenBothGlobalDatabases();
  }, 60_000);

  afterAll(async () => {
    await onGreen?.stop();
    greenSlot?.stop();
    blueSlot?.stop();
  });

  test('cut-over to blue made from green moves the name to blue, pinned; the rollback moves every write and the name back to green', async () => {
    expect((await bluegreen(nextUpgradeFile, 'prepare', '--for-clone')).code).toBe(ExitCode.ok);
    await onGreen.acknowledge(10);
    const clone = await clonePostgres(greenSlot);
    blueSlot = clone.server;
    await playAuroraInstance(blueSlot, 'keycloak-prod-eu-west-1-1');
    env = { ...env, BLUEGREEN_GREEN_URL: blueSlot.url('keycloak') };
    expect((await bluegreen(nextUpgradeFile, 'attach', '--clone-lsn', clone.consistentLsn)).code).toBe(ExitCode.ok);
    await onGreen.acknowledge(10);

    // With live already changed to blue, the URLs contradict the configuration: refused before the freeze.
    const contradicted = await bluegreen(liveChangedFile, 'cutover', '--terminate', '--environment', 'prod');
    expect(contradicted.code).toBe(ExitCode.refused);
    expect(contradicted.err).toMatch(/BLUEGREEN_BLUE_URL, the database the writes move from, reaches instance keycloak-prod-eu-west-1-green-1, which is no member of blue \(keycloak-prod\), but prod says blue is live .*nothing was changed/);
    // Green still takes writes, and the name did not move.
    await onGreen.acknowledge(5);
    expect(zone.changes).toEqual([]);

    const cut = await bluegreen(nextUpgradeFile, 'cutover', '--terminate', '--environment', 'prod');
    expect({ code: cut.code, err: cut.err }).toMatchObject({ code: ExitCode.ok, err: expect.stringMatching(/rollback window open: blue receives every write green takes/) });
    expect(cut.out.split('\n').at(-1)).toMatch(new RegExp(`^${NAME} names blue \\(${BLUE_GLOBAL_ENDPOINT}\\), in sync after \\d+ ms; pinned, so the writer-DNS handlers keep it there$`));
    expect(zone.target(NAME)).toBe(BLUE_GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toContain(`"cluster=${arn('keycloak-prod-eu-west-1')}" "by=bluegreen cutover`);

    // Keycloak on blue now; its writes flow back to green in the rollback window.
    const onBlue = new Writer(blueSlot.url('keycloak'), { name: 'on-blue' });
    onBlue.start();
    await onBlue.acknowledge(20);
    const refusedRollback = await bluegreen(liveChangedFile, 'rollback', '--terminate', '--environment', 'prod');
    expect(refusedRollback.code).toBe(ExitCode.refused);
    expect(refusedRollback.err).toMatch(/is pinned to .*keycloak-prod-eu-west-1 by bluegreen cutover .*prod says that is the live database \(blueGreen.live: 'blue'\).*nothing was changed/);

    const back = await bluegreen(nextUpgradeFile, 'rollback', '--terminate', '--environment', 'prod');
    expect({ code: back.code, err: back.err }).toMatchObject({ code: ExitCode.ok });
    expect(back.out.split('\n').at(-1)).toMatch(new RegExp(`^${NAME} names green \\(${GREEN_GLOBAL_ENDPOINT}\\), in sync after \\d+ ms; unpinned: the writer-DNS handlers keep it on green's writer$`));
    expect(zone.target(NAME)).toBe(GREEN_GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toBeUndefined();

    await Promise.all([onGreen.stop(), onBlue.stop()]);
    expect([...onGreen.unexpected, ...onBlue.unexpected]).toEqual([]);
    expect(await missingOn(greenSlot.url('keycloak'), [onGreen, onBlue])).toEqual([]);
    // Green takes writes again.
    await expect(query(greenSlot.url('keycloak'), "INSERT INTO audit (note) VALUES ('green again')")).resolves.toEqual([]);
  }, 180_000);
});
