/**
 * Aurora PostgreSQL engine versions and the parameter group family each belongs to.
 */
import { didYouMean } from './suggest';

/** Major versions that Aurora global databases and Keycloak 26 both support. */
export const SUPPORTED_MAJOR_VERSIONS = [13, 14, 15, 16, 17] as const;

export interface EngineVersion {
  readonly major: number;
  readonly minor: number;
}

/** Why `value` is not a usable Aurora PostgreSQL version like `16.6`, or undefined. */
export function engineVersionProblem(value: string): string | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(value);
  if (!match) return 'must be an Aurora PostgreSQL version MAJOR.MINOR, such as 16.6';
  const major = Number(match[1]);
  if (!(SUPPORTED_MAJOR_VERSIONS as readonly number[]).includes(major)) {
    return `major version ${major} is not supported; use one of ${SUPPORTED_MAJOR_VERSIONS.join(', ')}`;
  }
  return undefined;
}

export function parseEngineVersion(value: string): EngineVersion {
  const problem = engineVersionProblem(value);
  if (problem) throw new Error(`engine version ${JSON.stringify(value)} ${problem}`);
  const [major, minor] = value.split('.').map(Number);
  return { major, minor };
}

/** The DB (cluster) parameter group family of an engine version: `16.6` → `aurora-postgresql16`. */
export function parameterGroupFamily(engineVersion: string): string {
  return `aurora-postgresql${parseEngineVersion(engineVersion).major}`;
}

/**
 * Why `value` is not an instance class a global database accepts, or undefined.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html
 */
export function globalInstanceClassProblem(value: string): string | undefined {
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(value)) return 'must look like db.r6g.large';
  if (!/^db\.(r|x)\d/.test(value)) {
    return 'must be a memory-optimized class (db.r* or db.x*): Aurora global databases do not accept other classes';
  }
  const size = value.split('.')[2];
  if (!INSTANCE_SIZES.includes(size)) return `size ${size} is not an instance size (${INSTANCE_SIZES.join(', ')})${didYouMean(size, INSTANCE_SIZES)}`;
  return undefined;
}

/** The sizes of the memory-optimized classes Aurora offers. */
export const INSTANCE_SIZES = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge', '48xlarge'];

/**
 * The first and the newest minor version of each major that this release knows Aurora PostgreSQL
 * to offer. A version outside them is refused (`16.99` does not exist) unless the environment says
 * `allowUnlistedEngineVersion`, for a minor AWS released after this list; `preflight` asks the
 * Region itself.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurora-postgresql-relnotes.html
 */
export const KNOWN_MINOR_VERSIONS: Readonly<Record<number, { readonly first: number; readonly newest: number }>> = {
  13: { first: 3, newest: 21 },
  14: { first: 3, newest: 18 },
  15: { first: 2, newest: 13 },
  16: { first: 1, newest: 9 },
  17: { first: 4, newest: 6 },
};

/** Why `value` is not a version this release knows, or undefined. Call after engineVersionProblem passes. */
export function unlistedEngineVersionProblem(value: string): string | undefined {
  const { major, minor } = parseEngineVersion(value);
  const known = KNOWN_MINOR_VERSIONS[major];
  if (!known || (minor >= known.first && minor <= known.newest)) return undefined;
  return `${value} is not an Aurora PostgreSQL version this release knows (${major}.${known.first} to ${major}.${known.newest}); ` +
    'if AWS released it since, set allowUnlistedEngineVersion: true (preflight checks the Region offers it)';
}

/**
 * Logical replication settings for `subscribers` databases replicating from this cluster at once
 * (a blue/green green, say): one slot and WAL sender each, with room for a second run, an abort and
 * the physical senders Aurora's own tools use; two apply or sync workers each.
 */
export function logicalReplicationParameters(subscribers: number): Record<string, string> {
  const slots = subscribers + 2;
  const workers = 2 * subscribers + 2;
  return {
    'rds.logical_replication': '1',
    max_replication_slots: String(slots),
    max_wal_senders: String(slots + 4),
    max_logical_replication_workers: String(workers),
    max_worker_processes: String(workers + 8),
  };
}
