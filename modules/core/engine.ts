/**
 * Aurora PostgreSQL engine versions and the parameter group family each belongs to.
 */

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
  return undefined;
}
