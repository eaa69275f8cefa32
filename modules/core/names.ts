/**
 * Names the project derives from a global cluster identifier, and the AWS rules they must obey.
 * Every name is derived here, so the validation and the constructs cannot disagree.
 */

/** Longest DB cluster or DB instance identifier RDS accepts. */
export const RDS_IDENTIFIER_MAX_LENGTH = 63;

/**
 * Why `value` breaks the RDS DB identifier rules, or undefined when it obeys them.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.CreateInstance.html
 */
export function rdsIdentifierProblem(value: string): string | undefined {
  if (value.length < 1 || value.length > RDS_IDENTIFIER_MAX_LENGTH) {
    return `must be 1 to ${RDS_IDENTIFIER_MAX_LENGTH} characters long, is ${value.length}`;
  }
  if (!/^[a-z]/.test(value)) return 'must start with a lowercase letter';
  if (!/^[a-z0-9-]+$/.test(value)) return 'may contain only lowercase letters, digits and hyphens';
  if (value.endsWith('-')) return 'must not end with a hyphen';
  if (value.includes('--')) return 'must not contain two consecutive hyphens';
  return undefined;
}

/** The regional member cluster of a global cluster in `region`. */
export function regionalClusterIdentifier(globalClusterIdentifier: string, region: string): string {
  return `${globalClusterIdentifier}-${region}`;
}

/** The `ordinal`-th instance (1-based) of a regional cluster. */
export function instanceIdentifier(clusterIdentifier: string, ordinal: number): string {
  return `${clusterIdentifier}-${ordinal}`;
}

/**
 * Every RDS identifier a global cluster over `regions` with `instancesPerRegion` instances derives,
 * with the problem of each one that breaks the rules.
 */
export function derivedIdentifierProblems(
  globalClusterIdentifier: string,
  regions: readonly string[],
  instancesPerRegion: number,
): Array<{ identifier: string; problem: string }> {
  const problems: Array<{ identifier: string; problem: string }> = [];
  for (const region of regions) {
    const cluster = regionalClusterIdentifier(globalClusterIdentifier, region);
    // The longest instance name is the one with the highest ordinal, so checking it covers the others.
    for (const identifier of [cluster, instanceIdentifier(cluster, instancesPerRegion)]) {
      const problem = rdsIdentifierProblem(identifier);
      if (problem) problems.push({ identifier, problem });
    }
  }
  return problems;
}

/** Why `value` cannot name an environment (it becomes part of stack names and state keys). */
export function environmentNameProblem(value: string): string | undefined {
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/.test(value)) {
    return 'must be 1 to 32 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen';
  }
  return undefined;
}

/** Label under the environment's domain that holds the writer records, so a private zone shadows nothing else. */
export const WRITER_ZONE_LABEL = 'aurora-global';

/** The zone the project creates for writer records: `aurora-global.<domain>`. */
export function writerZoneName(domain: string): string {
  return `${WRITER_ZONE_LABEL}.${domain}`;
}

/** The name Keycloak connects to: `<global cluster>.aurora-global.<domain>`. */
export function writerRecordName(globalClusterIdentifier: string, domain: string): string {
  return `${globalClusterIdentifier}.${writerZoneName(domain)}`;
}

/** Why `value` is not a lowercase DNS name like `example.internal`, or undefined. */
export function dnsNameProblem(value: string): string | undefined {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (value.length > 200 || !new RegExp(`^(?:${label}\\.)+${label}$`).test(value)) {
    return 'must be a lowercase DNS name of two or more labels, without a trailing dot, such as example.internal';
  }
  return undefined;
}

/** The blue/green clone of a regional cluster. */
export function greenClusterIdentifier(clusterIdentifier: string): string {
  return `${clusterIdentifier}-green`;
}

/** DNS names compare lowercase and without the trailing dot Route 53 returns (IAM normalises them the same way). */
export function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
