/**
 * `bluegreen upgrade-clone`: the in-place upgrade of the copy a blue/green run moves the writes to
 * (green, or blue made again from a live green), before it replicates and before it is global. A
 * copy-on-write clone starts on its source's version; this takes it to the version the
 * configuration gives the copy, in the one order that keeps the replication exact: the clone's
 * start is read and recorded on green first (Aurora says it only until the upgrade rewrites the
 * cluster), the relics that would stop the upgrade are dropped, then RDS upgrades the cluster onto
 * the groups of the new family the copy's stack made for it. Repeatable: a re-run waits for an
 * upgrade under way and never reads the start again.
 */
import { DBCluster, ModifyDBClusterCommand, RDSClient, paginateDescribeDBClusterParameterGroups, paginateDescribeDBParameterGroups } from '@aws-sdk/client-rds';
import { describeCluster } from '../../functions/writer-dns/aws';
import { EnvironmentConfig, greenRegionOf, slotIsGlobal, upgradeTargetSlot } from '../../environments/schema';
import { type DatabaseSlot, databaseStackName, greenStackName, parameterGroupFamily, parseEngineVersion, slotIdentifiers } from '../../modules/core';
import { Clock, callAws, waitFor } from '../aws';
import type { OperatedEnvironment } from '../environment';
import { CliError, ExitCode, refuse } from '../errors';
import type { Deps } from '../observe';
import type { Io } from '../output';

/** The clone a run upgrades, as the configuration says it. */
export interface CloneUpgrade {
  readonly slot: DatabaseSlot;
  readonly region: string;
  readonly clusterIdentifier: string;
  /** The version it was cloned at: the live database's. */
  readonly fromVersion: string;
  /** The version the configuration gives the copy. */
  readonly toVersion: string;
  /** The family of `toVersion`: of the groups the upgrade moves the clone onto. */
  readonly family: string;
  /** Whether the upgrade crosses a major version (AllowMajorVersionUpgrade, and groups of the new family). */
  readonly major: boolean;
  /** The stack that makes the clone and its groups. */
  readonly stack: string;
}

/**
 * The copy of the live database, in green's Region (where both kinds of copy are cloned), and the
 * versions it goes from and to: green from blue's `engineVersion` to `greenEngineVersion`; blue made
 * from green the other way round. Refuses a configuration with no copy, or a copy that is global
 * already: its secondaries exist, and a global cluster upgrades all its Regions at once through
 * ModifyGlobalCluster.
 */
export function cloneUpgradeOf(env: EnvironmentConfig): CloneUpgrade {
  const slot = upgradeTargetSlot(env);
  if (!slot) {
    throw refuse(`${env.name} has no copy of the live database to upgrade (blueGreen.live is '${env.blueGreen.live}'; the copy is green, with greenClusters: 'kept', while blue is live, ` +
      `and blue made from green, blueSource: 'green', while green is live); nothing was changed`);
  }
  if (slotIsGlobal(env, slot)) {
    throw refuse(`${env.name}'s ${slot} is a global database already (blueGreen.${slot}Global): upgrade the clone before making it global, which keeps the upgrade to one cluster; ` +
      'set it back only once the clone is deleted and made again, or upgrade the global cluster as a whole (ModifyGlobalCluster); nothing was changed');
  }
  const region = greenRegionOf(env);
  const greenVersion = env.blueGreen.greenEngineVersion ?? env.engineVersion;
  const [fromVersion, toVersion] = slot === 'green' ? [env.engineVersion, greenVersion] : [greenVersion, env.engineVersion];
  return {
    slot,
    region,
    clusterIdentifier: slotIdentifiers(env.globalClusterIdentifier, slot).member(region),
    fromVersion,
    toVersion,
    family: parameterGroupFamily(toVersion),
    major: parseEngineVersion(fromVersion).major !== parseEngineVersion(toVersion).major,
    stack: slot === 'green' ? greenStackName(env.name) : databaseStackName(env.name),
  };
}

/** A parameter group as RDS lists it. */
export interface ListedGroup {
  readonly name: string;
  readonly family: string;
}

/**
 * The one group of `family` that Terraform made for the cluster: named `<cluster>-` and the 26
 * characters of its name prefix. The suffix keeps another cluster's groups out (`<cluster>-green-…`
 * starts the same way). Refuses none (the stack is not deployed with the new family yet) and two (an
 * apply replacing one has not finished).
 */
export function upgradeGroup(groups: readonly ListedGroup[], upgrade: CloneUpgrade, kind: 'cluster' | 'instance'): string {
  // Cluster identifiers are letters, digits and hyphens: nothing a pattern reads specially.
  const ownName = new RegExp(`^${upgrade.clusterIdentifier}-[0-9a-f]{26}$`);
  const found = groups.filter((group) => group.family === upgrade.family && ownName.test(group.name)).map((group) => group.name);
  if (found.length === 1) return found[0];
  throw refuse(found.length === 0
    ? `${upgrade.region} has no ${kind} parameter group of ${upgrade.family} made for ${upgrade.clusterIdentifier} (${upgrade.clusterIdentifier}-…): deploy ${upgrade.stack} with the new version first; nothing was changed`
    : `${upgrade.region} has ${found.length} ${kind} parameter groups of ${upgrade.family} made for ${upgrade.clusterIdentifier} (${found.join(', ')}): let the apply that replaces one finish; nothing was changed`);
}

/** Every group of a kind in the clone's Region, page by page (the SDK's paginators); a throttled listing starts again. */
function listGroups(rds: RDSClient, clock: Clock, kind: 'cluster' | 'instance'): Promise<ListedGroup[]> {
  return callAws(kind === 'cluster' ? 'DescribeDBClusterParameterGroups' : 'DescribeDBParameterGroups', async () => {
    const groups: ListedGroup[] = [];
    if (kind === 'cluster') {
      for await (const page of paginateDescribeDBClusterParameterGroups({ client: rds }, {})) {
        groups.push(...(page.DBClusterParameterGroups ?? []).map((group) => ({ name: group.DBClusterParameterGroupName ?? '', family: group.DBParameterGroupFamily ?? '' })));
      }
    } else {
      for await (const page of paginateDescribeDBParameterGroups({ client: rds }, {})) {
        groups.push(...(page.DBParameterGroups ?? []).map((group) => ({ name: group.DBParameterGroupName ?? '', family: group.DBParameterGroupFamily ?? '' })));
      }
    }
    return groups;
  }, clock);
}

/** What upgrade-clone asks of the databases: the URLs' check, and the clone's start (see recordCloneStart). */
export interface CloneDatabases {
  /** Why the URLs do not reach the live database and the copy, or undefined. */
  urlsProblem(): Promise<string | undefined>;
  /** Reads and records the clone's start (once), drops the clone's relics; refuses an attached green. */
  record(): Promise<string>;
  /** The start recorded on green, if any, and whether green is attached (attach clears the record). */
  recorded(): Promise<{ readonly start?: string; readonly attached: boolean }>;
}

export interface UpgradeCloneOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
}

/**
 * Upgrades the copy's clone in place to the configured version, its start recorded before. Waits
 * (up to the timeout) until RDS reports it available on that version; says what to run next.
 */
export async function upgradeClone(env: OperatedEnvironment, deps: Deps, io: Io, options: UpgradeCloneOptions, databases: CloneDatabases): Promise<void> {
  const upgrade = cloneUpgradeOf(env.config);
  const { clusterIdentifier, region, toVersion } = upgrade;
  const rds = deps.aws.rds(region);
  const describe = async (): Promise<DBCluster> => {
    const cluster = await callAws(`DescribeDBClusters in ${region}`, () => describeCluster(rds, clusterIdentifier), deps.clock);
    if (!cluster) throw refuse(`${upgrade.slot}'s clone ${clusterIdentifier} does not exist in ${region}: deploy ${upgrade.stack} first; nothing was changed`);
    return cluster;
  };
  const deadline = deps.clock.now() + options.timeoutMs;
  /** Looks until `done`; `done` may throw to stop waiting. */
  const waitUntil = async (done: (now: DBCluster) => boolean): Promise<DBCluster> => {
    let last: DBCluster | undefined;
    const found = await waitFor(deps.clock, deadline, options.pollMs, async () => {
      last = await describe();
      return done(last) ? last : undefined;
    });
    if (found) return found;
    throw new CliError(`${clusterIdentifier} is still ${last?.Status} on ${last?.EngineVersion} after ${Math.round(options.timeoutMs / 60_000)} min; ` +
      'what RDS started goes on: run the same command again to keep waiting', ExitCode.timeout);
  };
  let cluster = await describe();
  if (cluster.Status !== 'available') {
    io.err(`${clusterIdentifier} is ${cluster.Status}: waiting until it is available`);
    cluster = await waitUntil((now) => now.Status === 'available');
  }
  const problem = await databases.urlsProblem();
  if (problem) throw refuse(problem);
  if (cluster.EngineVersion !== toVersion) {
    const from = cluster.EngineVersion ?? upgrade.fromVersion;
    const crossesMajor = parseEngineVersion(from).major !== parseEngineVersion(toVersion).major;
    const groups = crossesMajor
      ? { cluster: upgradeGroup(await listGroups(rds, deps.clock, 'cluster'), upgrade, 'cluster'), instance: upgradeGroup(await listGroups(rds, deps.clock, 'instance'), upgrade, 'instance') }
      : undefined;
    const lsn = await databases.record();
    io.err(`the clone starts after ${lsn}: recorded in green's database comment for "bluegreen attach --clone" (should it be lost, give attach --clone-lsn ${lsn})`);
    await callAws(`ModifyDBCluster in ${region}`, () => rds.send(new ModifyDBClusterCommand({
      DBClusterIdentifier: clusterIdentifier,
      EngineVersion: toVersion,
      ApplyImmediately: true,
      ...(groups && { AllowMajorVersionUpgrade: true, DBClusterParameterGroupName: groups.cluster, DBInstanceParameterGroupName: groups.instance }),
    })), deps.clock);
    io.err(`upgrading ${clusterIdentifier} from ${from} to ${toVersion}${groups ? ` onto ${groups.cluster} and ${groups.instance}` : ''}; a major upgrade takes tens of minutes`);
    let started = false;
    cluster = await waitUntil((now) => {
      if (now.Status !== 'available') started = true;
      else if (now.EngineVersion === toVersion) return true;
      else if (started) {
        throw new CliError(`the upgrade of ${clusterIdentifier} did not complete: it is available on ${now.EngineVersion} again. Its events (aws rds describe-events --source-type db-cluster ` +
          `--source-identifier ${clusterIdentifier}) and upgrade logs say why; the clone's start stays recorded: fix the cause and run the same command again`, ExitCode.stopped);
      }
      return false;
    });
  }
  const { start: recorded, attached } = await databases.recorded();
  if (attached) {
    io.out(`${clusterIdentifier} runs ${toVersion}, and green is attached already: nothing left to do before "bluegreen lag"`);
  } else if (recorded !== undefined) {
    io.out(`${clusterIdentifier} runs ${toVersion}; the clone starts after ${recorded} (recorded on green): run "bluegreen attach --clone" next`);
  } else if (!upgrade.major) {
    io.out(`${clusterIdentifier} runs ${toVersion}, blue's major version: "bluegreen attach --clone" reads where the clone starts from Aurora`);
  } else {
    throw new CliError(`${clusterIdentifier} runs ${toVersion}, but green holds no record of where the clone started (it was upgraded by something else than this command, or the record was lost): ` +
      'give "bluegreen attach --clone --clone-lsn <the LSN read before the upgrade>", or delete the clone and make it again', ExitCode.stopped);
  }
}
