import { normalizeDnsName } from '../../modules/core/names';

/** What the writer-DNS handler needs to know, read once at cold start. */
export type WriterDnsTarget = 'regional-writer' | 'global-writer';

export interface WriterDnsConfig {
  /** Global cluster whose writer the record follows. */
  readonly globalClusterIdentifier: string;
  /** This function's own member cluster, `<global>-<region>`. */
  readonly ownClusterIdentifier: string;
  /** Every member cluster of the global cluster; events from any other cluster are ignored. */
  readonly memberClusterIdentifiers: readonly string[];
  /** Region this function runs in. */
  readonly region: string;
  readonly hostedZoneId: string;
  /** Record name, lowercase, without the trailing dot. */
  readonly recordName: string;
  readonly recordTtlSeconds: number;
  /** Point the record at the writer cluster's endpoint, or at Aurora's global writer endpoint. */
  readonly target: WriterDnsTarget;
}

/** Reads the configuration from the function's environment; throws naming every missing or bad variable. */
export function loadConfig(env: Record<string, string | undefined>): WriterDnsConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const config = {
    globalClusterIdentifier: required('GLOBAL_CLUSTER_IDENTIFIER'),
    ownClusterIdentifier: required('OWN_CLUSTER_IDENTIFIER'),
    memberClusterIdentifiers: required('MEMBER_CLUSTER_IDENTIFIERS').split(',').filter(Boolean),
    region: required('AWS_REGION'),
    hostedZoneId: required('HOSTED_ZONE_ID'),
    recordName: normalizeDnsName(required('RECORD_NAME')),
    recordTtlSeconds: Number(required('RECORD_TTL_SECONDS')),
    target: required('WRITER_TARGET') as WriterDnsTarget,
  };
  if (!Number.isInteger(config.recordTtlSeconds) || config.recordTtlSeconds < 0) {
    problems.push(`RECORD_TTL_SECONDS must be a whole number of seconds, is ${JSON.stringify(env.RECORD_TTL_SECONDS)}`);
  }
  if (!['regional-writer', 'global-writer'].includes(config.target)) {
    problems.push(`WRITER_TARGET must be regional-writer or global-writer, is ${JSON.stringify(env.WRITER_TARGET)}`);
  }
  if (problems.length > 0) throw new Error(`writer-dns configuration: ${problems.join('; ')}`);
  return config;
}
