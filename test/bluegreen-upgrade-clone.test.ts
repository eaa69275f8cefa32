/**
 * `bluegreen upgrade-clone` on real PostgreSQL 15, under a live writer: the clone's start is read
 * before the upgrade and recorded on green, what the clone copied from blue (publication, slot) is
 * dropped so the upgrade's own checks pass, a run stopped between the record and the upgrade does
 * not read the start again, and `attach --clone` then subscribes from the recorded start with no
 * acknowledged write lost or applied twice. RDS is aws-sdk-client-mock; the clone is pg_basebackup
 * (its manifest's end LSN is what Aurora's function answers), and the upgrade itself is RDS's.
 */
import { DBCluster, DescribeDBClusterParameterGroupsCommand, DescribeDBClustersCommand, DescribeDBParameterGroupsCommand, ModifyDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients, realClock } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { Writer, missingOn, rowsOf as query, startKeycloakLike } from './bluegreen-writer';
import { PostgresServer, clonePostgres, postgresBinDir } from './postgres-harness';
import { prodEnvironmentsFile } from './prod-blue-green';

const GREEN = 'keycloak-prod-eu-west-1-green';
const GREEN_GROUP = `${GREEN}-2026120112000000000000000a`;

/** What Aurora answers on an instance: its identifier, and where its volume's logical stream starts. */
const playAurora = (server: PostgresServer, instance: string, startLsn?: string) => Promise.all([
  query(server.url(), `CREATE OR REPLACE FUNCTION aurora_db_instance_identifier() RETURNS text LANGUAGE sql AS $$ SELECT '${instance}'::text $$`),
  startLsn && query(server.url('keycloak'), `CREATE OR REPLACE FUNCTION aurora_volume_logical_start_lsn() RETURNS pg_lsn LANGUAGE sql AS $$ SELECT '${startLsn}'::pg_lsn $$`),
]);

/** The green clone in RDS: available on 16.6 until ModifyDBCluster, then upgrading for one look, then on the version asked for. */
function givenGreenClone(onModify: () => Promise<void>) {
  const rds = mockClient(RDSClient);
  let cluster: DBCluster = { DBClusterIdentifier: GREEN, Status: 'available', EngineVersion: '16.6' };
  let target = '';
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: GREEN }).callsFake(async () => {
    const seen = cluster;
    if (cluster.Status === 'upgrading') cluster = { ...cluster, Status: 'available', EngineVersion: target };
    return { DBClusters: [seen] };
  });
  rds.on(DescribeDBClusterParameterGroupsCommand).resolves({ DBClusterParameterGroups: [{ DBClusterParameterGroupName: GREEN_GROUP, DBParameterGroupFamily: 'aurora-postgresql17' }] });
  rds.on(DescribeDBParameterGroupsCommand).resolves({ DBParameterGroups: [{ DBParameterGroupName: GREEN_GROUP, DBParameterGroupFamily: 'aurora-postgresql17' }] });
  rds.on(ModifyDBClusterCommand).callsFake(async (input: { EngineVersion: string }) => {
    await onModify();
    target = input.EngineVersion;
    cluster = { ...cluster, Status: 'upgrading' };
    return { DBCluster: cluster };
  });
  return rds;
}

describe('bluegreen upgrade-clone on real PostgreSQL 15: the start recorded before the upgrade, and attach --clone from it', () => {
  let blue: PostgresServer;
  let green: PostgresServer | undefined;
  let writer: Writer;
  /** prod (16.6) with green cloned from blue, to run 17.6. */
  const file = prodEnvironmentsFile({ enabled: true, green: true, greenEngineVersion: '17.6' });
  let env: Record<string, string>;
  const bluegreen = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['--environments', file, 'bluegreen', ...args], {
      aws: awsClients(), clock: realClock, env, io: { out: (line) => out.push(line), err: (line) => err.push(line) },
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const greenComment = async () => (await query(green!.url(), "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = 'keycloak'"))[0].comment;
  const greenSlots = async () => (await query(green!.url(), 'SELECT slot_name FROM pg_replication_slots ORDER BY slot_name')).map((row) => row.slot_name);

  beforeAll(async () => {
    ({ server: blue, writer } = await startKeycloakLike());
    await playAurora(blue, 'keycloak-prod-eu-west-1-1');
    await query(blue.url(), "COMMENT ON DATABASE keycloak IS 'Keycloak of prod'");
    env = { BLUEGREEN_BLUE_URL: blue.url('keycloak'), BLUEGREEN_GREEN_URL: blue.url('keycloak'), BLUEGREEN_REPLICATION_PASSWORD: 'replication-test-only', BLUEGREEN_PG_BINDIR: postgresBinDir() };
  }, 60_000);

  afterAll(async () => {
    await writer?.stop();
    blue?.stop();
    green?.stop();
  });

  test('records the start first, survives a stop before the upgrade, and attach subscribes from the record with nothing lost or repeated', async () => {
    expect((await bluegreen('prepare', '--for-clone')).code).toBe(ExitCode.ok);
    await writer.acknowledge(10);
    const clone = await clonePostgres(blue);
    green = clone.server;
    // What an Aurora clone holds of blue's: its slot (pg_basebackup copies none), and the functions' answers.
    await query(green.url('keycloak'), "SELECT pg_create_logical_replication_slot('keycloak_bluegreen', 'pgoutput')");
    await query(green.url('keycloak'), "SELECT pg_create_logical_replication_slot('cdc_of_blue', 'pgoutput')");
    await playAurora(green, 'keycloak-prod-eu-west-1-green-1', clone.consistentLsn);
    let modifyFails = true;
    let upgradedGreen = false;
    const rds = givenGreenClone(async () => {
      if (modifyFails) throw Object.assign(new Error('Cluster keycloak-prod-eu-west-1-green is not in the available state.'), { name: 'InvalidDBClusterStateFault' });
      // The upgrade rewrites the cluster: Aurora's function no longer answers the clone's start.
      await playAurora(green!, 'keycloak-prod-eu-west-1-green-1', '0/1');
      upgradedGreen = true;
    });

    // The URLs swapped: refused before anything is read or recorded.
    const swapped = await (async () => {
      const saved = env;
      env = { ...env, BLUEGREEN_BLUE_URL: green!.url('keycloak'), BLUEGREEN_GREEN_URL: blue.url('keycloak') };
      try { return await bluegreen('upgrade-clone', '--environment', 'prod', '--poll', '0.01'); } finally { env = saved; }
    })();
    expect(swapped.code).toBe(ExitCode.refused);
    expect(swapped.err).toMatch(/BLUEGREEN_BLUE_URL, the database the writes move from, reaches instance keycloak-prod-eu-west-1-green-1, which is no member of blue/);
    expect(await greenComment()).toBe('Keycloak of prod');

    env = { ...env, BLUEGREEN_GREEN_URL: green.url('keycloak') };
    // Another slot the clone copied would stop the upgrade's checks: named, and RDS is not asked.
    const otherSlot = await bluegreen('upgrade-clone', '--environment', 'prod', '--poll', '0.01');
    expect(otherSlot).toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/green's server has logical replication slots, which stop an in-place major upgrade: cdc_of_blue \(database keycloak\)/) });
    expect(rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
    expect(await greenComment()).toBe(`keycloak-aurora-dr bluegreen keycloak_bluegreen: a clone of blue that starts after ${clone.consistentLsn}`);
    expect(await greenSlots()).toEqual(['cdc_of_blue']);
    expect(await query(blue.url('keycloak'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([{ slot_name: 'keycloak_bluegreen' }]);
    await query(green.url('keycloak'), "SELECT pg_drop_replication_slot('cdc_of_blue')");

    // Stopped after the record, before the upgrade started (RDS refused the call).
    const stopped = await bluegreen('upgrade-clone', '--environment', 'prod', '--poll', '0.01');
    expect(stopped).toMatchObject({ code: ExitCode.aws, err: expect.stringMatching(/ModifyDBCluster in eu-west-1 failed: InvalidDBClusterStateFault/) });
    // Whatever Aurora's function says from now on, the re-run keeps the start recorded before.
    await playAurora(green, 'keycloak-prod-eu-west-1-green-1', '0/1');
    modifyFails = false;
    const upgraded = await bluegreen('upgrade-clone', '--environment', 'prod', '--poll', '0.01');
    expect({ code: upgraded.code, err: upgraded.err }).toMatchObject({ code: ExitCode.ok });
    expect(upgradedGreen).toBe(true);
    expect(upgraded.out).toBe(`${GREEN} runs 17.6; the clone starts after ${clone.consistentLsn} (recorded on green): run "bluegreen attach --clone" next`);
    expect(rds.commandCalls(ModifyDBClusterCommand).at(-1)!.args[0].input).toEqual({
      DBClusterIdentifier: GREEN, EngineVersion: '17.6', ApplyImmediately: true, AllowMajorVersionUpgrade: true, DBClusterParameterGroupName: GREEN_GROUP, DBInstanceParameterGroupName: GREEN_GROUP,
    });
    await writer.acknowledge(10);

    // A start given by hand that contradicts the record is refused; without one, the record is used.
    expect((await bluegreen('attach', '--clone', '--clone-lsn', '0/1')).err).toMatch(/--clone-lsn 0\/1 is not where green says the clone starts/);
    expect((await bluegreen('attach', '--clone', '--clone-lsn', 'latest')).code).toBe(ExitCode.usage);
    const attached = await bluegreen('attach', '--clone');
    expect(attached).toMatchObject({ code: ExitCode.ok, err: `green's subscription starts after ${clone.consistentLsn} (recorded on green before its upgrade)` });
    expect(await greenComment()).toBe('Keycloak of prod');
    expect(await greenSlots()).toEqual([]);
    expect(await query(green.url('keycloak'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect((await bluegreen('upgrade-clone', '--environment', 'prod', '--poll', '0.01')).out).toMatch(/green is attached already: nothing left to do/);
    await writer.acknowledge(10);

    const cut = await bluegreen('cutover', '--terminate', '--no-rollback');
    expect({ code: cut.code, err: cut.err }).toMatchObject({ code: ExitCode.ok });
    await writer.stop();
    expect(await missingOn(green.url('keycloak'), [writer])).toEqual([]);
    // Applied once: a change both in the clone and replicated again would duplicate rows of the table without a key.
    await query(blue.url(), 'ALTER DATABASE keycloak ALLOW_CONNECTIONS true');
    for (const table of ['realm', 'event', 'audit']) {
      const [[onBlue], [onGreen]] = await Promise.all([blue, green].map((server) => query(server.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`)));
      expect(onGreen).toEqual(onBlue);
    }
  }, 120_000);
});
