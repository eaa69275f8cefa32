/**
 * `bluegreen upgrade-clone`: which clone it upgrades and to what, which groups it moves it onto,
 * where `attach --clone` starts, and the RDS calls in their order against a cluster that upgrades
 * as RDS reports it (aws-sdk-client-mock): the start is recorded before ModifyDBCluster, a re-run
 * waits for the upgrade under way instead of starting another, and a failed or slow upgrade says so.
 */
import {
  DBCluster, DescribeDBClusterParameterGroupsCommand, DescribeDBClustersCommand, DescribeDBParameterGroupsCommand, ModifyDBClusterCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients } from '../cli/aws';
import { cloneStart, isLsn } from '../cli/bluegreen/clone-start';
import { formatCloneStart, parseMarker, recordedCloneStart } from '../cli/bluegreen/marker';
import { CloneDatabases, cloneUpgradeOf, upgradeClone, upgradeGroup } from '../cli/commands/upgrade-clone';
import { ExitCode } from '../cli/errors';
import { BlueGreenInput, prodWith } from './prod-blue-green';

/** The first upgrade: green cloned from blue (16.6), to run 17.6. */
const FIRST: BlueGreenInput = { enabled: true, green: true, greenEngineVersion: '17.6' };
/** The next upgrade: green live on `greenEngineVersion`, blue made again from it, to run prod's engineVersion (16.6). */
const nextFrom = (greenEngineVersion: string): BlueGreenInput => ({ enabled: true, green: true, greenGlobal: true, greenEngineVersion, live: 'green', blueSource: 'green' });
const GREEN = 'keycloak-prod-eu-west-1-green';
const suffix = (n: number) => `20261201120000${String(n).padStart(4, '0')}00000001`;

describe('cloneUpgradeOf: the copy of the live database, and the versions it goes between', () => {
  test('green, cloned from blue in green\'s Region, goes from blue\'s version to greenEngineVersion across a major version', () => {
    expect(cloneUpgradeOf(prodWith(FIRST).config)).toEqual({
      slot: 'green', region: 'eu-west-1', clusterIdentifier: GREEN, fromVersion: '16.6', toVersion: '17.6', family: 'aurora-postgresql17', major: true, stack: 'prod-green',
    });
    expect(cloneUpgradeOf(prodWith({ ...FIRST, greenRegion: 'eu-central-1' }).config)).toMatchObject({ region: 'eu-central-1', clusterIdentifier: 'keycloak-prod-eu-central-1-green' });
  });

  test('blue made from a live green goes from green\'s version to engineVersion, made by the database stack', () => {
    const { config } = prodWith(nextFrom('15.13'));
    expect(cloneUpgradeOf(config)).toEqual({
      slot: 'blue', region: 'eu-west-1', clusterIdentifier: 'keycloak-prod-eu-west-1', fromVersion: '15.13', toVersion: '16.6', family: 'aurora-postgresql16', major: true, stack: 'prod-database',
    });
  });

  test('a minor upgrade is no major one', () => {
    expect(cloneUpgradeOf(prodWith({ enabled: true, green: true, greenEngineVersion: '16.8' }).config)).toMatchObject({ toVersion: '16.8', family: 'aurora-postgresql16', major: false });
  });

  test('refuses a copy that is global already, and a configuration without a copy', () => {
    expect(() => cloneUpgradeOf(prodWith({ ...FIRST, greenGlobal: true }).config)).toThrow(/^prod's green is a global database already \(blueGreen.greenGlobal\): upgrade the clone before making it global.*nothing was changed$/);
    expect(() => cloneUpgradeOf(prodWith({ ...nextFrom('15.13'), blueGlobal: true }).config)).toThrow(/^prod's blue is a global database already \(blueGreen.blueGlobal\)/);
    expect(() => cloneUpgradeOf(prodWith({ enabled: true }).config)).toThrow(/^prod has no copy of the live database to upgrade \(blueGreen.live is 'blue'.*nothing was changed$/);
    expect(() => cloneUpgradeOf(prodWith({ ...FIRST, greenGlobal: true, live: 'green' }).config)).toThrow(/^prod has no copy of the live database to upgrade \(blueGreen.live is 'green'/);
  });
});

describe('upgradeGroup: the group of the new family the copy\'s stack made for the clone', () => {
  const upgrade = cloneUpgradeOf(prodWith(FIRST).config);
  const own = `${GREEN}-${suffix(1)}`;

  test('picks the clone\'s own group of the new family, not its creation group, nor another cluster\'s that starts the same way', () => {
    const blueUpgrade = cloneUpgradeOf(prodWith(nextFrom('15.13')).config);
    const groups = [
      { name: `keycloak-prod-eu-west-1-${suffix(1)}`, family: 'aurora-postgresql15' },
      { name: `keycloak-prod-eu-west-1-${suffix(2)}`, family: 'aurora-postgresql16' },
      { name: `keycloak-prod-eu-west-1-green-${suffix(3)}`, family: 'aurora-postgresql16' },
      { name: 'keycloak-prod-eu-west-1-handmade', family: 'aurora-postgresql16' },
    ];
    expect(upgradeGroup(groups, blueUpgrade, 'cluster')).toBe(`keycloak-prod-eu-west-1-${suffix(2)}`);
    expect(upgradeGroup([{ name: own, family: 'aurora-postgresql17' }, { name: `${GREEN}-${suffix(2)}`, family: 'aurora-postgresql16' }], upgrade, 'instance')).toBe(own);
  });

  test('refuses when the stack has not made it yet, or while a replacement leaves two', () => {
    expect(() => upgradeGroup([{ name: own, family: 'aurora-postgresql16' }], upgrade, 'cluster'))
      .toThrow(/^eu-west-1 has no cluster parameter group of aurora-postgresql17 made for keycloak-prod-eu-west-1-green .*deploy prod-green with the new version first; nothing was changed$/);
    expect(() => upgradeGroup([{ name: own, family: 'aurora-postgresql17' }, { name: `${GREEN}-${suffix(2)}`, family: 'aurora-postgresql17' }], upgrade, 'instance'))
      .toThrow(`eu-west-1 has 2 instance parameter groups of aurora-postgresql17 made for ${GREEN} (${own}, ${GREEN}-${suffix(2)}): let the apply that replaces one finish; nothing was changed`);
  });
});

describe('cloneStart: where attach --clone subscribes from', () => {
  test('the given start, else the recorded one, else Aurora\'s while green runs blue\'s major version', () => {
    expect(cloneStart({ given: '1/A0', blueMajor: 16, greenMajor: 17 })).toEqual({ from: 'given', lsn: '1/A0' });
    expect(cloneStart({ recorded: '1/A0', blueMajor: 16, greenMajor: 17 })).toEqual({ from: 'recorded', lsn: '1/A0' });
    expect(cloneStart({ given: '01/a0', recorded: '1/A0', blueMajor: 16, greenMajor: 17 })).toEqual({ from: 'given', lsn: '01/a0' });
    expect(cloneStart({ blueMajor: 16, greenMajor: 16 })).toEqual({ from: 'aurora' });
  });

  test('refuses an upgraded green with nothing recorded, and a given start the record contradicts', () => {
    expect(() => cloneStart({ blueMajor: 16, greenMajor: 17 })).toThrow(/^green runs PostgreSQL 17 and blue 16: green was upgraded after it was cloned, so aurora_volume_logical_start_lsn\(\) no longer says where the clone starts\. Give --clone-lsn with the LSN read before the upgrade, or make the clone again and upgrade it with "bluegreen upgrade-clone", which records it first; nothing was changed$/);
    expect(() => cloneStart({ given: '1/A1', recorded: '1/A0', blueMajor: 16, greenMajor: 17 })).toThrow(/^--clone-lsn 1\/A1 is not where green says the clone starts \(1\/A0, recorded before its upgrade\)/);
    expect(() => cloneStart({ given: '2/A0', recorded: '1/A0', blueMajor: 16, greenMajor: 16 })).toThrow(/is not where green says/);
    expect(() => cloneStart({ given: '1/A0', recorded: 'edited by hand', blueMajor: 16, greenMajor: 17 })).toThrow(/is not where green says the clone starts \(edited by hand/);
  });

  test('an LSN is two hexadecimal numbers of at most 32 bits around a slash', () => {
    expect(['0/402E2F0', '16/B374D848', 'FFFFFFFF/0'].every(isLsn)).toBe(true);
    expect(['', '0402E2F0', '0/402E2F0/1', '1FFFFFFFF/0', '0/G', ' 0/1'].some(isLsn)).toBe(false);
  });

  test('the record is green\'s database comment, named after the run, and no cut-over marker', () => {
    const comment = formatCloneStart('keycloak_bluegreen', '1/A0');
    expect(recordedCloneStart(comment, 'keycloak_bluegreen')).toBe('1/A0');
    expect(recordedCloneStart(comment, 'other_run')).toBeUndefined();
    expect(recordedCloneStart(null, 'keycloak_bluegreen')).toBeUndefined();
    expect(parseMarker(comment)).toBeUndefined();
  });
});

/**
 * An RDS account with the clone, which upgrades the way RDS reports it: right after ModifyDBCluster
 * it still looks available on the old version, then `upgrading` for `upgradeLooks` looks, then
 * available on the new version (or, with `fails`, on the old one). Both kinds of group come in two pages.
 */
function givenClone(options: { version?: string; status?: string; upgradeLooks?: number; fails?: boolean; groups?: { name: string; family: string }[] } = {}) {
  const rds = mockClient(RDSClient);
  let cluster: DBCluster = { DBClusterIdentifier: GREEN, Status: options.status ?? 'available', EngineVersion: options.version ?? '16.6' };
  let looksBeforeUpgrading = 0;
  let looksLeft = options.upgradeLooks ?? 2;
  let target: string | undefined;
  const groups = options.groups ?? [
    { name: `keycloak-prod-eu-west-1-${suffix(1)}`, family: 'aurora-postgresql16' },
    { name: `${GREEN}-${suffix(2)}`, family: 'aurora-postgresql17' },
  ];
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: GREEN }).callsFake(async () => {
    if (looksBeforeUpgrading > 0 && --looksBeforeUpgrading === 0) cluster = { ...cluster, Status: 'upgrading' };
    else if (cluster.Status === 'upgrading' && --looksLeft < 0) cluster = { ...cluster, Status: 'available', EngineVersion: options.fails ? cluster.EngineVersion : target ?? cluster.EngineVersion };
    return { DBClusters: [cluster] };
  });
  const page = <T>(marker: string | undefined, items: T[]) => (marker ? { items: items.slice(1) } : { items: items.slice(0, 1), Marker: 'page-2' });
  rds.on(DescribeDBClusterParameterGroupsCommand).callsFake(async (input: { Marker?: string }) => {
    const { items, Marker } = page(input.Marker, groups);
    return { DBClusterParameterGroups: items.map((g) => ({ DBClusterParameterGroupName: g.name, DBParameterGroupFamily: g.family })), Marker };
  });
  // Terraform names each group with its own suffix: the instance group is not the cluster group.
  const instanceGroups = groups.map((g) => ({ ...g, name: g.name.replace(/1$/, '2') }));
  rds.on(DescribeDBParameterGroupsCommand).callsFake(async (input: { Marker?: string }) => {
    const { items, Marker } = page(input.Marker, instanceGroups);
    return { DBParameterGroups: items.map((g) => ({ DBParameterGroupName: g.name, DBParameterGroupFamily: g.family })), Marker };
  });
  rds.on(ModifyDBClusterCommand).callsFake(async (input: { EngineVersion: string }) => {
    target = input.EngineVersion;
    looksBeforeUpgrading = 2;
    return { DBCluster: cluster };
  });
  return { rds, upgradeStarted: () => target !== undefined };
}

describe('upgradeClone against RDS', () => {
  let now = 0;
  const deps = { aws: awsClients(), clock: { now: () => now, sleep: async (ms: number) => { now += ms; } } };
  const options = { timeoutMs: 60 * 60_000, pollMs: 30_000 };
  const first = prodWith(FIRST);

  /** The databases' side: what each call saw of RDS, so the order is checked. */
  function databases(account: { upgradeStarted(): boolean }, overrides: Partial<CloneDatabases> = {}) {
    const calls: string[] = [];
    let start: string | undefined;
    const fake: CloneDatabases = {
      urlsProblem: async () => { calls.push('urls'); return undefined; },
      record: async () => {
        calls.push(account.upgradeStarted() ? 'record after the upgrade started' : 'record');
        start ??= '3/5B0C2A8';
        return start;
      },
      recorded: async () => { calls.push('recorded'); return { start, attached: false }; },
      ...overrides,
    };
    return { fake, calls };
  }
  const run = async (databaseSide: CloneDatabases) => {
    const out: string[] = [];
    const err: string[] = [];
    await upgradeClone(first, deps, { out: (line) => out.push(line), err: (line) => err.push(line) }, options, databaseSide);
    return { out, err };
  };

  beforeEach(() => { now = 0; });

  test('records the start, then upgrades the clone onto its own groups of the new family, and waits until it runs the new version', async () => {
    const account = givenClone();
    const { fake, calls } = databases(account);
    const { out, err } = await run(fake);
    const clusterGroup = `${GREEN}-${suffix(2)}`;
    const instanceGroup = clusterGroup.replace(/1$/, '2');
    expect(account.rds.commandCalls(ModifyDBClusterCommand).map((call) => call.args[0].input)).toEqual([{
      DBClusterIdentifier: GREEN, EngineVersion: '17.6', ApplyImmediately: true, AllowMajorVersionUpgrade: true,
      DBClusterParameterGroupName: clusterGroup, DBInstanceParameterGroupName: instanceGroup,
    }]);
    expect(calls).toEqual(['urls', 'record', 'recorded']);
    expect(err).toEqual([
      'the clone starts after 3/5B0C2A8: recorded in green\'s database comment for "bluegreen attach --clone" (should it be lost, give attach --clone-lsn 3/5B0C2A8)',
      `upgrading ${GREEN} from 16.6 to 17.6 onto ${clusterGroup} and ${instanceGroup}; a major upgrade takes tens of minutes`,
    ]);
    expect(out).toEqual([`${GREEN} runs 17.6; the clone starts after 3/5B0C2A8 (recorded on green): run "bluegreen attach --clone" next`]);
  });

  test('a re-run while the upgrade is under way waits for it, and neither records nor upgrades again', async () => {
    const account = givenClone({ status: 'upgrading', upgradeLooks: 3 });
    // The first run's upgrade: RDS moves the clone to 17.6 when it finishes.
    await new RDSClient({ region: 'eu-west-1' }).send(new ModifyDBClusterCommand({ DBClusterIdentifier: GREEN, EngineVersion: '17.6' }));
    account.rds.resetHistory();
    const { fake, calls } = databases(account, { recorded: async () => ({ start: '3/5B0C2A8', attached: false }) });
    const { out, err } = await run(fake);
    expect(account.rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
    expect(calls).toEqual(['urls']);
    expect(err).toEqual([`${GREEN} is upgrading: waiting until it is available`]);
    expect(out[0]).toMatch(/runs 17.6; the clone starts after 3\/5B0C2A8/);
  });

  test('a minor upgrade changes only the version', async () => {
    const minor = prodWith({ enabled: true, green: true, greenEngineVersion: '16.8' });
    const account = givenClone();
    const { fake } = databases(account);
    await upgradeClone(minor, deps, { out: () => undefined, err: () => undefined }, options, fake);
    expect(account.rds.commandCalls(ModifyDBClusterCommand)[0].args[0].input).toEqual({ DBClusterIdentifier: GREEN, EngineVersion: '16.8', ApplyImmediately: true });
    expect(account.rds.commandCalls(DescribeDBParameterGroupsCommand)).toHaveLength(0);
  });

  test('a copy configured on blue\'s version needs no upgrade: attach reads the start from Aurora', async () => {
    const sameVersion = prodWith({ enabled: true, green: true });
    const account = givenClone();
    const out: string[] = [];
    await upgradeClone(sameVersion, deps, { out: (line) => out.push(line), err: () => undefined }, options, databases(account).fake);
    expect(out).toEqual([`${GREEN} runs 16.6, blue's major version: "bluegreen attach --clone" reads where the clone starts from Aurora`]);
    expect(account.rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
  });

  test('a clone on the new version already, attached or with its start recorded, needs nothing', async () => {
    const account = givenClone({ version: '17.6' });
    const attached = databases(account, { recorded: async () => ({ attached: true }) });
    expect((await run(attached.fake)).out).toEqual([`${GREEN} runs 17.6, and green is attached already: nothing left to do before "bluegreen lag"`]);
    expect(account.rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
    expect(attached.calls).toEqual(['urls']);
  });

  test('a clone upgraded by something else, with no start recorded, is not attachable from Aurora\'s word', async () => {
    const { fake } = databases(givenClone({ version: '17.6' }));
    await expect(run(fake)).rejects.toMatchObject({ exitCode: ExitCode.stopped, message: expect.stringMatching(/runs 17.6, but green holds no record of where the clone started .*--clone-lsn/) });
  });

  test('refuses before any change when the URLs reach other clusters, or the groups are not there yet', async () => {
    const account = givenClone();
    const wrongUrls = databases(account, { urlsProblem: async () => 'BLUEGREEN_GREEN_URL, the copy, reaches instance keycloak-prod-eu-west-1-1 ...' });
    await expect(run(wrongUrls.fake)).rejects.toMatchObject({ exitCode: ExitCode.refused, message: expect.stringMatching(/^BLUEGREEN_GREEN_URL, the copy, reaches/) });
    const noGroups = givenClone({ groups: [{ name: `${GREEN}-${suffix(2)}`, family: 'aurora-postgresql16' }] });
    const missing = databases(noGroups);
    await expect(run(missing.fake)).rejects.toMatchObject({ exitCode: ExitCode.refused, message: expect.stringMatching(/no cluster parameter group of aurora-postgresql17/) });
    expect(missing.calls).toEqual(['urls']);
    expect(noGroups.rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
  });

  test('an upgrade RDS gives up on, back on the old version, stops with where to look', async () => {
    const account = givenClone({ fails: true });
    const { fake } = databases(account);
    await expect(run(fake)).rejects.toMatchObject({ exitCode: ExitCode.stopped, message: expect.stringMatching(/^the upgrade of keycloak-prod-eu-west-1-green did not complete: it is available on 16.6 again.*describe-events.*run the same command again$/) });
  });

  test('an upgrade longer than the timeout leaves it running and says to run again', async () => {
    const account = givenClone({ upgradeLooks: 10_000 });
    const { fake } = databases(account);
    await expect(run(fake)).rejects.toMatchObject({ exitCode: ExitCode.timeout, message: `${GREEN} is still upgrading on 16.6 after 60 min; what RDS started goes on: run the same command again to keep waiting` });
    expect(now).toBeLessThanOrEqual(options.timeoutMs);
  });

  test('a clone that does not exist is refused with the stack to deploy', async () => {
    const rds = mockClient(RDSClient);
    rds.on(DescribeDBClustersCommand).rejects(Object.assign(new Error(`DBCluster ${GREEN} not found.`), { name: 'DBClusterNotFoundFault' }));
    await expect(run(databases({ upgradeStarted: () => false }).fake)).rejects.toMatchObject({ exitCode: ExitCode.refused, message: `green's clone ${GREEN} does not exist in eu-west-1: deploy prod-green first; nothing was changed` });
  });
});
