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

/**
 * The final snapshot of a cloned cluster: named after the version it runs, so that the clone of the
 * next upgrade but one, made under the same identifier, does not collide with this one's.
 */
export function finalSnapshotIdentifier(clusterIdentifier: string, engineVersion: string): string {
  return `${clusterIdentifier}-final-${engineVersion.replace(/\./g, '-')}`;
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

/** Longest DNS name Route 53 accepts, in characters without the trailing dot (255 octets on the wire). */
export const DNS_NAME_MAX_LENGTH = 253;

/** Longest label of a DNS name. */
export const DNS_LABEL_MAX_LENGTH = 63;

/** Why `value` is not a lowercase DNS name like `example.internal`, or undefined. */
export function dnsNameProblem(value: string): string | undefined {
  if (value.length > DNS_NAME_MAX_LENGTH) return `is ${value.length} characters long; a DNS name has at most ${DNS_NAME_MAX_LENGTH}`;
  const long = value.split('.').find((label) => label.length > DNS_LABEL_MAX_LENGTH);
  if (long) return `has a label of ${long.length} characters (${long.slice(0, 20)}…); a DNS label has at most ${DNS_LABEL_MAX_LENGTH}`;
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (!new RegExp(`^(?:${label}\\.)+${label}$`).test(value)) {
    return 'must be a lowercase DNS name of two or more labels, without a trailing dot, such as example.internal';
  }
  return undefined;
}

/** The names of the writer-DNS handler's resources that AWS limits in length, with each limit. */
export function writerDnsHandlerNames(globalClusterIdentifier: string) {
  const stem = `${globalClusterIdentifier}-writer-dns`;
  return {
    /** The function, and the stem of its topic, alarms and log group. */
    function: { name: stem, maxLength: 64, what: 'Lambda function' },
    deadLetterQueue: { name: `${stem}-dead-letters`, maxLength: 80, what: 'SQS queue' },
    eventRule: { name: `${globalClusterIdentifier}-dns-event`, maxLength: 64, what: 'EventBridge rule' },
    scheduleRule: { name: `${globalClusterIdentifier}-dns-schedule`, maxLength: 64, what: 'EventBridge rule' },
    pagingRule: { name: `${globalClusterIdentifier}-move-failed`, maxLength: 64, what: 'EventBridge rule' },
  } as const;
}

/** The TXT record beside the writer's name that pins it to one cluster (see functions/writer-dns/aws.ts). */
export function pinRecordName(recordName: string): string {
  return `_writer-pin.${recordName}`;
}

/** Green's global cluster, when green is made a global database before the cut-over. */
export function greenGlobalClusterIdentifier(globalClusterIdentifier: string): string {
  return `${globalClusterIdentifier}-green`;
}

/** The blue/green clone of a regional cluster. */
export function greenClusterIdentifier(clusterIdentifier: string): string {
  return `${clusterIdentifier}-green`;
}

/** The two databases of a blue/green environment: `blue` (the database stack's) and `green` (the green stack's). */
export type DatabaseSlot = 'blue' | 'green';

/** A slot's global cluster and its member in `region`: blue is `<id>` and `<id>-<region>`, green adds `-green` to both. */
export function slotIdentifiers(globalClusterIdentifier: string, slot: DatabaseSlot): { readonly globalClusterIdentifier: string; member(region: string): string } {
  return slot === 'blue'
    ? { globalClusterIdentifier, member: (region) => regionalClusterIdentifier(globalClusterIdentifier, region) }
    : { globalClusterIdentifier: greenGlobalClusterIdentifier(globalClusterIdentifier), member: (region) => greenClusterIdentifier(regionalClusterIdentifier(globalClusterIdentifier, region)) };
}

/** DNS names compare lowercase and without the trailing dot Route 53 returns (IAM normalises them the same way). */
export function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Name of an environment's database stack. */
export function databaseStackName(environment: string): string {
  return `${environment}-database`;
}

/** Name of the stack holding an environment's blue/green clone. */
export function greenStackName(environment: string): string {
  return `${environment}-green`;
}

/** Name of the stack that connects one Keycloak site to the database. */
export function siteStackName(environment: string, site: string): string {
  return `${environment}-${site}-access`;
}

/** The S3 key holding a stack's state: one key per stack, so stacks never share state or a lock. */
export function s3StateKey(keyPrefix: string, stackName: string): string {
  return `${keyPrefix}/${stackName}/terraform.tfstate`;
}

/** The HCP Terraform workspace a stack runs in. */
export function cloudWorkspaceName(workspacePrefix: string, stackName: string): string {
  return `${workspacePrefix}${stackName}`;
}

/** Name of the stack holding an environment's DR orchestrator, in every Region. */
export function drStackName(environment: string): string {
  return `${environment}-dr`;
}

/** The DR orchestrator's functions, one per task. */
export const DR_TASKS = [
  'plan', 'summary', 'evaluate',
  'switchover', 'failover', 'detach', 'promote', 'cache', 'create-secondary', 'create-replica', 'approval', 'custom', 'wait-dns',
] as const;

/** The DR orchestrator's state machine `<name>-dr` (80 characters at most) and functions `<name>-dr-<task>` (64). */
export function drOrchestratorNames(name: string) {
  return {
    stateMachine: { name: `${name}-dr`, maxLength: 80, what: 'Step Functions state machine' },
    approvalTopic: { name: `${name}-dr-approvals`, maxLength: 256, what: 'SNS topic' },
    readinessRule: { name: `${name}-dr-readiness`, maxLength: 64, what: 'EventBridge rule' },
    functions: DR_TASKS.map((task) => ({ task, name: `${name}-dr-${task}`, maxLength: 64, what: 'Lambda function' })),
  };
}

/** Where the DR stack publishes an environment's identifiers in every Region, for plans to name with `!Ssm`. */
export function drParameterNames(environment: string, regions: readonly string[]) {
  return {
    globalClusterIdentifier: `/keycloak-aurora-dr/${environment}/global-cluster-identifier`,
    /** The plans the readiness evaluation checks, one parameter each. */
    plans: `/keycloak-aurora-dr/${environment}/dr-plans`,
    clusterArns: Object.fromEntries(regions.map((region) => [region, `/keycloak-aurora-dr/${environment}/${region}/cluster-arn`])),
  };
}

/** The tags the project puts on every resource of an environment, so its owner is plain from the console. */
export function projectTags(environment: string, globalClusterIdentifier: string): Record<string, string> {
  return { Project: 'keycloak-aurora-dr', Environment: environment, GlobalCluster: globalClusterIdentifier, ManagedBy: 'cdktf' };
}
