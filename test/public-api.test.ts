/**
 * The public API: what the package root, `keycloak-aurora-dr/stacks` and
 * `keycloak-aurora-dr/environments` export. An export that appears or disappears fails here, so it
 * is a decision (and a CHANGELOG line, a major version when one disappears), never an accident.
 * The type-level checks below compile only while the props other teams write keep their shape.
 */
import type { EnvironmentInput } from '../environments';
import * as environments from '../environments';
import * as root from '../modules';
import type { AuroraGlobalDatabaseProps, DrOrchestratorProps, WriterFailoverHandlerProps } from '../modules';
import * as stacks from '../stacks';

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only when `keys` are exactly the required props of T. */
const requiredOf = <T>() => <K extends RequiredKeys<T>>(...keys: K[]): Same<K, RequiredKeys<T>> extends true ? true : 'the required props changed' => (keys.length >= 0) as never;

const API = {
  root: [
    'AWS_REGIONS_BY_PARTITION', 'AWS_WRAPPER_DRIVER', 'AuroraClone', 'AuroraGlobalDatabase', 'AuroraNetwork', 'DNS_LABEL_MAX_LENGTH', 'DNS_NAME_MAX_LENGTH',
    'DR_TASKS', 'DrOrchestrator', 'FAST_FAILOVER_PROPERTIES', 'GreenGlobalDatabase', 'HANDLER_RUNTIME', 'INSTANCE_SIZES', 'JAVA_DNS_CACHE_OPTIONS', 'KNOWN_MINOR_VERSIONS',
    'MAX_GLOBAL_DATABASE_REGIONS', 'MEMBER_CLUSTER_IGNORED_CHANGES', 'NODE_TCP_KEEPALIVE_SYSCTLS', 'PAGING_EVENT_IDS', 'POSTGRES_PORT', 'RDS_IDENTIFIER_MAX_LENGTH', 'READINESS_NAMESPACE', 'RESOURCE_TASKS',
    'SUPPORTED_MAJOR_VERSIONS', 'SitePeering', 'TASK_STATES', 'WRITER_MOVED_EVENT_IDS', 'WRITER_ZONE_LABEL', 'WriterDnsRecord', 'WriterFailoverHandler', 'addAuroraInstances',
    'addStateBackend', 'alarmOnFirstOccurrence', 'alarmTopic', 'assertProps', 'awsWrapperJdbcUrl', 'bundledFunction', 'cidrProblem', 'cidrsOverlap', 'closest',
    'cloudWorkspaceName', 'databaseNameProblem', 'databaseStackName', 'derivedIdentifierProblems', 'didYouMean', 'dnsNameProblem', 'drOrchestratorNames', 'drParameterNames',
    'drStackName', 'editDistance', 'engineVersionProblem', 'environmentNameProblem', 'finalSnapshotIdentifier', 'formatCidr', 'globalClusterFromClone', 'globalInstanceClassProblem', 'greenClusterIdentifier',
    'greenGlobalClusterIdentifier', 'greenStackName', 'handlerPolicy', 'hostnameProblem', 'instanceHostPattern', 'instanceIdentifier', 'keycloakCrDatabaseSpec',
    'keycloakJdbcUrl', 'logicalReplicationParameters', 'masterUsernameProblem', 'memberClusterParameters', 'memberParameterGroups', 'normalizeDnsName',
    'orchestratorDefinition', 'overlappingPairs', 'parameterGroupFamily', 'parseCidr', 'parseEngineVersion', 'partitionOf', 'pinRecordName', 'projectTags',
    'rdsIdentifierProblem', 'regionalClusterIdentifier', 's3StateKey', 'siteStackName', 'slotIdentifiers', 'subdivideCidr', 'tagProblem', 'unlistedEngineVersionProblem',
    'writerDnsHandlerNames', 'writerRecordName', 'writerZoneName',
  ],
  stacks: [
    'DatabaseStack', 'DrStack', 'FUNCTION_NAMES', 'GreenStack', 'KUBERNETES_CREDENTIALS_SECRET', 'SiteAccessStack', 'addEnvironmentStacks', 'bundleFunction',
    'databaseStackName', 'drStackName', 'environmentTags', 'greenStackName', 'packageRoot', 'prebuiltZip', 'siteStackName', 'synthesizeEnvironments', 'synthesizeOrReport', 'writePackageAssets',
  ],
  environments: [
    'DERIVED_VPC_PREFIX_LENGTH', 'EnvironmentValidationError', 'HCP_WORKSPACE_NAME_MAX_LENGTH', 'MAX_KEYCLOAK_SITES', 'PROJECT_TAG_KEYS', 'auroraVpcCidr',
    'environmentSchema', 'environments', 'greenRegionOf', 'liveDatabase', 'parseEnvironment', 'parseEnvironments', 'regionPlans', 'slotIsGlobal', 'stackNamesOf', 'upgradeTargetSlot',
  ],
};

describe('public API', () => {
  test.each(Object.entries({ root, stacks, environments }))('%s exports exactly what the API lists', (entry, exported) => {
    expect(Object.keys(exported).sort()).toEqual([...API[entry as keyof typeof API]].sort());
  });

  test('the smallest environment a team writes is the documented one, and gets the documented defaults', () => {
    const minimal = {
      name: 'payments',
      layout: 'single-site',
      globalClusterIdentifier: 'payments-identity',
      regions: ['eu-north-1', 'eu-west-3'],
      engineVersion: '16.6',
      sites: [{ name: 'eks', region: 'eu-north-1', vpcId: 'vpc-0a1b2c3d4e5f60001', cidr: '10.40.0.0/16', routeTableIds: ['rtb-0a1b2c3d4e5f60001'] }],
      auroraCidrPool: '10.90.0.0/16',
      writerDns: { domain: 'payments.example.internal' },
    } satisfies EnvironmentInput;
    expect(environments.parseEnvironment(minimal)).toMatchObject({
      writerDns: { target: 'global-writer', ttlSeconds: 5 },
      deletionProtection: true,
      stateBackend: { type: 'local' },
      drOrchestrator: { enabled: false },
      blueGreen: { enabled: false, greenGlobal: false },
    });
  });

  test('the props other teams pass keep their required fields (checked by the compiler: tsc fails when they change)', () => {
    const checks: Record<string, true> = {
      AuroraGlobalDatabase: requiredOf<AuroraGlobalDatabaseProps>()('engineVersion', 'globalClusterIdentifier', 'masterPassword', 'regions'),
      WriterFailoverHandler: requiredOf<WriterFailoverHandlerProps>()('code', 'globalClusterArn', 'globalClusterIdentifier', 'hostedZoneArn', 'hostedZoneId', 'memberClusterIdentifiers', 'ownCluster', 'provider', 'recordName', 'recordTtlSeconds', 'region'),
      DrOrchestrator: requiredOf<DrOrchestratorProps>()('code', 'name', 'provider', 'region'),
    };
    expect(Object.values(checks)).toEqual([true, true, true]);
  });
});
