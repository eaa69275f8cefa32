import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
import { RdsGlobalCluster } from '@cdktf/provider-aws/lib/rds-global-cluster';
import { Construct } from 'constructs';
import {
  assertProps,
  derivedIdentifierProblems,
  engineVersionProblem,
  globalInstanceClassProblem,
  logicalReplicationParameters,
  parameterGroupFamily,
  rdsIdentifierProblem,
  finalSnapshotIdentifier,
  regionalClusterIdentifier,
} from '../core';
import { addAuroraInstances } from '../aurora-instances';

export { logicalReplicationParameters };

const ENGINE = 'aurora-postgresql';

/** Where one regional cluster of the global database lives. */
export interface AuroraRegionPlacement {
  /** Region name, such as `eu-west-1`. */
  readonly region: string;
  /** Provider configured for that Region. */
  readonly provider: AwsProvider;
  /** DB subnet group the cluster's instances are placed in. */
  readonly dbSubnetGroupName: string;
  /** Security groups of the cluster. */
  readonly securityGroupIds: string[];
  /** Availability zones to spread the instances over, in order. */
  readonly availabilityZones: string[];
}

export interface AuroraGlobalDatabaseProps {
  /** Identifier of the global cluster; regional clusters are `<id>-<region>`, instances `<id>-<region>-<n>`. */
  readonly globalClusterIdentifier: string;
  /** One placement per Region; the first holds the primary (writer) cluster at creation. */
  readonly regions: readonly AuroraRegionPlacement[];
  /**
   * Aurora PostgreSQL engine version, MAJOR.MINOR. Owned by the global cluster; members ignore later drift.
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/AuroraPostgreSQL.Updates.html
   */
  readonly engineVersion: string;
  /** Instance class of every instance; global databases need a memory-optimized class. @default 'db.r6g.large' */
  readonly instanceClass?: string;
  /** Instances in each regional cluster, spread over its availability zones. @default 1 */
  readonly instancesPerRegion?: number;
  /** Database created in the primary cluster. @default 'keycloak' */
  readonly databaseName?: string;
  /** Master user of the primary cluster. @default 'keycloak' */
  readonly masterUsername?: string;
  /**
   * Master password, written to the primary cluster as a write-only attribute: it is never stored in
   * Terraform state. Pass an ephemeral, sensitive variable, never a literal.
   */
  readonly masterPassword: string;
  /** Increase to make Terraform write `masterPassword` again (a rotation). @default 1 */
  readonly masterPasswordVersion?: number;
  /** Refuse to delete the global cluster and its members. @default true */
  readonly deletionProtection?: boolean;
  /** Days of automated backups, 1 to 35. @default 7 */
  readonly backupRetentionDays?: number;
  /** Delete the primary cluster without a final snapshot. @default false */
  readonly skipFinalSnapshot?: boolean;
  /** Days Performance Insights keeps data. @default 7 */
  readonly performanceInsightsRetentionDays?: number;
  /** Databases that may replicate from the clusters at once; 0 keeps logical replication off. @default 0 */
  readonly logicalReplicationSubscribers?: number;
  /** Cluster parameters merged over the construct's own (values are strings, as RDS takes them). @default {} */
  readonly clusterParameters?: Record<string, string>;
  /** Tags added to every resource. @default {} */
  readonly tags?: Record<string, string>;
  /**
   * Remove the global cluster, its clusters and instances, and keep each Region's KMS key and
   * parameter groups (a copy of this database, a blue/green green, is encrypted with those keys). @default false
   */
  readonly retired?: boolean;
  /** Make the database as a copy-on-write clone of another cluster (the next blue/green upgrade) instead of empty. @default - a new, empty database */
  readonly cloneOf?: AuroraCloneSource;
}

/** The cluster a global database made from a clone comes from. */
export interface AuroraCloneSource {
  /** Identifier of the cluster to clone; it must hold its global database's writer when the clone is made. */
  readonly clusterIdentifier: string;
  /** Its Region, one of `regions`: the clone, the global cluster's primary, is made there. */
  readonly region: string;
  /**
   * The version the source runs: the clone is created on it, on parameter groups of its family (a
   * copy-on-write clone cannot change major version), and upgraded in place to `engineVersion`.
   */
  readonly engineVersion: string;
  /** Make the global cluster from the clone, with a secondary in every other Region. @default false (the clone alone, so that it can be upgraded in place first) */
  readonly global?: boolean;
}

/** What each Region keeps whether or not the database runs there: its key and parameter groups. */
export interface RegionalAuroraResources {
  readonly region: string;
  /** Customer-managed key of this Region: storage and Performance Insights. */
  readonly kmsKey: KmsKey;
  readonly clusterParameterGroup: RdsClusterParameterGroup;
  readonly instanceParameterGroup: DbParameterGroup;
}

/** A cluster's pair of parameter groups. */
export interface MemberParameterGroups {
  readonly clusterParameterGroup: RdsClusterParameterGroup;
  readonly instanceParameterGroup: DbParameterGroup;
}

/** One regional member cluster of the global database. */
export interface RegionalAuroraCluster extends RegionalAuroraResources {
  /** True for the cluster that was the writer at creation; the writer may move later. */
  readonly isInitialPrimary: boolean;
  readonly cluster: RdsCluster;
  readonly instances: RdsClusterInstance[];
}

/**
 * What a member cluster of a global database leaves to changes outside Terraform: switchover,
 * failover and upgrades change these, and an apply must not undo them. Green's members keep the same rules.
 */
export const MEMBER_CLUSTER_IGNORED_CHANGES = ['replication_source_identifier', 'global_cluster_identifier', 'engine_version'];

/** Static parameters need a reboot; RDS refuses `immediate` for them. */
const STATIC_PARAMETERS = new Set([
  'rds.logical_replication',
  'max_replication_slots',
  'max_wal_senders',
  'max_logical_replication_workers',
  'max_worker_processes',
  'shared_preload_libraries',
]);


/** A member cluster's parameters: the construct's own, with `clusterParameters` merged over them. */
export function memberClusterParameters(logicalReplicationSubscribers: number, clusterParameters: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...baseClusterParameters(logicalReplicationSubscribers), ...clusterParameters };
}

/**
 * A member cluster's parameter groups, of `family`. name_prefix and create_before_destroy let a
 * major upgrade swap in groups of the new family; the instance group is empty on purpose, so that
 * instance settings can change in place, without swapping groups and rebooting.
 */
export function memberParameterGroups(scope: Construct, provider: AwsProvider, clusterIdentifier: string, family: string, parameters: Readonly<Record<string, string>>, tags: Record<string, string>): MemberParameterGroups {
  const clusterParameterGroup = new RdsClusterParameterGroup(scope, 'cluster-parameters', {
    provider,
    namePrefix: `${clusterIdentifier}-`,
    family,
    description: `Cluster parameters of ${clusterIdentifier}`,
    parameter: Object.entries(parameters).map(([name, value]) => ({
      name,
      value,
      applyMethod: STATIC_PARAMETERS.has(name) ? 'pending-reboot' : 'immediate',
    })),
    tags,
    lifecycle: { createBeforeDestroy: true },
  });
  const instanceParameterGroup = new DbParameterGroup(scope, 'instance-parameters', {
    provider,
    namePrefix: `${clusterIdentifier}-`,
    family,
    description: `Instance parameters of ${clusterIdentifier}`,
    tags,
    lifecycle: { createBeforeDestroy: true },
  });
  return { clusterParameterGroup, instanceParameterGroup };
}

/** The cluster parameters the construct sets itself, before `clusterParameters` are merged over them. */
function baseClusterParameters(logicalReplicationSubscribers: number): Record<string, string> {
  return {
    // Keycloak and every operator connect over TLS; plaintext connections are refused.
    'rds.force_ssl': '1',
    ...(logicalReplicationSubscribers > 0 && logicalReplicationParameters(logicalReplicationSubscribers)),
  };
}

/**
 * An Aurora PostgreSQL global database: the global cluster, and in every Region a member cluster
 * encrypted with that Region's own KMS key, its parameter groups and its instances.
 *
 * Which member is the writer is not desired state: after a switchover or failover, the next apply
 * leaves the members where the operation put them.
 */
export class AuroraGlobalDatabase extends Construct {
  /** The global cluster; none once `retired`. */
  public readonly globalCluster?: RdsGlobalCluster;
  /** Identifier of the global cluster. */
  public readonly globalClusterIdentifier: string;
  /** Aurora's global writer endpoint, which follows switchovers and failovers within the global cluster; none once `retired`. */
  public readonly globalWriterEndpoint?: string;
  /** Member clusters, in the order of `regions`; none once `retired`. */
  public readonly regionalClusters: RegionalAuroraCluster[];
  /** Each Region's key and parameter groups, in the order of `regions`, retired or not. */
  public readonly regionalResources: RegionalAuroraResources[];
  /** Made from a clone of a newer or older family: the clone's own groups, which its in-place upgrade moves it to. */
  public readonly cloneUpgradeParameterGroups?: MemberParameterGroups;

  constructor(scope: Construct, id: string, props: AuroraGlobalDatabaseProps) {
    super(scope, id);
    const instancesPerRegion = props.instancesPerRegion ?? 1;
    const instanceClass = props.instanceClass ?? 'db.r6g.large';
    const regionNames = props.regions.map((placement) => placement.region);
    assertProps(`AuroraGlobalDatabase ${id}`, validationRules(props, regionNames, instancesPerRegion, instanceClass));

    const family = parameterGroupFamily(props.engineVersion);
    const deletionProtection = props.deletionProtection ?? true;
    const tags = props.tags ?? {};
    const { cloneOf } = props;
    const primaryIndex = cloneOf ? regionNames.indexOf(cloneOf.region) : 0;
    const primaryPlacement = props.regions[primaryIndex];

    this.globalClusterIdentifier = props.globalClusterIdentifier;
    const parameters = memberClusterParameters(props.logicalReplicationSubscribers ?? 0, props.clusterParameters);
    // The same construct paths retired or not: retiring removes the clusters and never replaces a key.
    const regionScopes = props.regions.map((placement) => new Construct(this, placement.region));
    this.regionalResources = props.regions.map((placement, index) => {
      const clusterIdentifier = regionalClusterIdentifier(props.globalClusterIdentifier, placement.region);
      const scope = regionScopes[index];
      const { provider } = placement;
      const kmsKey = new KmsKey(scope, 'key', {
        provider,
        description: `Aurora storage and Performance Insights of ${clusterIdentifier}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: { ...tags, Name: clusterIdentifier },
      });
      new KmsAlias(scope, 'key-alias', {
        provider,
        name: `alias/${clusterIdentifier}`,
        targetKeyId: kmsKey.keyId,
      });
      return { region: placement.region, kmsKey, ...memberParameterGroups(scope, provider, clusterIdentifier, family, parameters, { ...tags, Name: clusterIdentifier }) };
    });
    if (props.retired) {
      this.regionalClusters = [];
      return;
    }

    const primaryIdentifier = regionalClusterIdentifier(props.globalClusterIdentifier, primaryPlacement.region);
    const sourceFamily = cloneOf && parameterGroupFamily(cloneOf.engineVersion);
    // A clone starts on its source's family; with another family it needs groups of that one to be created on.
    const creationGroups = sourceFamily && sourceFamily !== family
      ? memberParameterGroups(new Construct(regionScopes[primaryIndex], 'clone-creation'), primaryPlacement.provider, primaryIdentifier, sourceFamily, parameters, { ...tags, Name: `${primaryIdentifier} clone of ${cloneOf.clusterIdentifier}` })
      : this.regionalResources[primaryIndex];
    if (creationGroups !== this.regionalResources[primaryIndex]) this.cloneUpgradeParameterGroups = this.regionalResources[primaryIndex];

    const member = (index: number, role: MemberRole): RegionalAuroraCluster => {
      const placement = props.regions[index];
      const clusterIdentifier = regionalClusterIdentifier(props.globalClusterIdentifier, placement.region);
      const scope = regionScopes[index];
      const { provider } = placement;
      const { kmsKey, clusterParameterGroup, instanceParameterGroup } = this.regionalResources[index];
      const isClone = role.kind === 'clone';
      const groups = isClone ? creationGroups : { clusterParameterGroup, instanceParameterGroup };
      const cluster = new RdsCluster(scope, 'cluster', {
        provider,
        clusterIdentifier,
        engine: ENGINE,
        ...memberRoleSettings(role, clusterIdentifier, props),
        dbSubnetGroupName: placement.dbSubnetGroupName,
        vpcSecurityGroupIds: placement.securityGroupIds,
        dbClusterParameterGroupName: groups.clusterParameterGroup.name,
        storageEncrypted: true,
        kmsKeyId: kmsKey.arn,
        deletionProtection,
        backupRetentionPeriod: props.backupRetentionDays ?? 7,
        copyTagsToSnapshot: true,
        enabledCloudwatchLogsExports: ['postgresql'],
        tags: { ...tags, Name: clusterIdentifier, ...(isClone && { ClonedFrom: cloneOf!.clusterIdentifier }) },
        timeouts: { create: '120m', update: '120m', delete: '120m' },
        // A clone was restored once, and its in-place upgrade swaps its parameter groups.
        lifecycle: { ignoreChanges: isClone ? [...MEMBER_CLUSTER_IGNORED_CHANGES, 'restore_to_point_in_time', 'db_cluster_parameter_group_name'] : MEMBER_CLUSTER_IGNORED_CHANGES },
      });
      const instances = addAuroraInstances(scope, {
        provider,
        clusterIdentifier,
        clusterId: cluster.id,
        count: instancesPerRegion,
        instanceClass,
        availabilityZones: placement.availabilityZones,
        dbSubnetGroupName: placement.dbSubnetGroupName,
        dbParameterGroupName: groups.instanceParameterGroup.name,
        kmsKeyArn: kmsKey.arn,
        performanceInsightsRetentionDays: props.performanceInsightsRetentionDays ?? 7,
        tags,
        parameterGroupChangesOutsideTerraform: isClone,
      });
      return { region: placement.region, isInitialPrimary: index === primaryIndex, cluster, instances, kmsKey, clusterParameterGroup, instanceParameterGroup };
    };

    let primary: RegionalAuroraCluster;
    if (cloneOf) {
      primary = member(primaryIndex, { kind: 'clone', source: cloneOf });
      if (cloneOf.global) {
        this.globalCluster = globalClusterFromClone(this, primaryPlacement.provider, props.globalClusterIdentifier, primary.cluster, deletionProtection);
      }
    } else {
      this.globalCluster = new RdsGlobalCluster(this, 'global', {
        provider: primaryPlacement.provider,
        globalClusterIdentifier: props.globalClusterIdentifier,
        engine: ENGINE,
        engineVersion: props.engineVersion,
        storageEncrypted: true,
        deletionProtection,
        // No database_name here: changing it on the global cluster replaces the whole global database.
      });
      primary = member(primaryIndex, { kind: 'new', globalCluster: this.globalCluster });
    }
    const { globalCluster } = this;
    this.globalWriterEndpoint = globalCluster?.endpoint;
    this.regionalClusters = props.regions.flatMap((_, index) => {
      if (index === primaryIndex) return [primary];
      if (!globalCluster) return [];
      return [member(index, { kind: 'secondary', globalCluster, primaryRegion: primaryPlacement.region, primaryInstances: primary.instances, engineVersion: cloneOf ? props.engineVersion : globalCluster.engineVersion })];
    });
  }
}

/**
 * A global cluster made from an existing cluster (a blue/green clone), with the id `global` in
 * `scope`: its engine and version come from the clone, and upgrades change them outside Terraform.
 */
export function globalClusterFromClone(scope: Construct, provider: AwsProvider, globalClusterIdentifier: string, clone: RdsCluster, deletionProtection: boolean): RdsGlobalCluster {
  return new RdsGlobalCluster(scope, 'global', {
    provider,
    globalClusterIdentifier,
    sourceDbClusterIdentifier: clone.arn,
    // Destroying the global cluster must not silently detach its members first: it fails while they exist.
    forceDestroy: false,
    deletionProtection,
    lifecycle: { ignoreChanges: ['engine_version'] },
  });
}

/** How a member cluster comes to hold the data: made new (the primary), cloned, or replicated from the primary. */
type MemberRole =
  | { readonly kind: 'new'; readonly globalCluster: RdsGlobalCluster }
  | { readonly kind: 'clone'; readonly source: AuroraCloneSource }
  | { readonly kind: 'secondary'; readonly globalCluster: RdsGlobalCluster; readonly primaryRegion: string; readonly primaryInstances: RdsClusterInstance[]; readonly engineVersion: string };

function memberRoleSettings(role: MemberRole, clusterIdentifier: string, props: AuroraGlobalDatabaseProps) {
  switch (role.kind) {
    case 'new':
      // Only the cluster that creates the data takes credentials and the database name; RDS refuses them on a replica.
      return {
        globalClusterIdentifier: role.globalCluster.id,
        engineVersion: role.globalCluster.engineVersion,
        databaseName: props.databaseName ?? 'keycloak',
        masterUsername: props.masterUsername ?? 'keycloak',
        masterPasswordWo: props.masterPassword,
        masterPasswordWoVersion: props.masterPasswordVersion ?? 1,
        skipFinalSnapshot: props.skipFinalSnapshot ?? false,
        finalSnapshotIdentifier: props.skipFinalSnapshot ? undefined : `${clusterIdentifier}-final`,
      };
    case 'clone':
      // The clone's data, users and passwords are its source's; the global cluster, if any, is made from it.
      return {
        restoreToPointInTime: { sourceClusterIdentifier: role.source.clusterIdentifier, restoreType: 'copy-on-write', useLatestRestorableTime: true },
        skipFinalSnapshot: props.skipFinalSnapshot ?? false,
        finalSnapshotIdentifier: props.skipFinalSnapshot ? undefined : finalSnapshotIdentifier(clusterIdentifier, props.engineVersion),
      };
    case 'secondary':
      return {
        globalClusterIdentifier: role.globalCluster.id,
        engineVersion: role.engineVersion,
        sourceRegion: role.primaryRegion,
        // A secondary holds a copy of the primary's data; the primary's final snapshot is the one that counts.
        skipFinalSnapshot: true,
        dependsOn: role.primaryInstances,
      };
  }
}

function validationRules(
  props: AuroraGlobalDatabaseProps,
  regionNames: string[],
  instancesPerRegion: number,
  instanceClass: string,
) {
  const identifierProblem = rdsIdentifierProblem(props.globalClusterIdentifier);
  const versionProblem = engineVersionProblem(props.engineVersion);
  const classProblem = globalInstanceClassProblem(instanceClass);
  const derived = identifierProblem
    ? []
    : derivedIdentifierProblems(props.globalClusterIdentifier, regionNames, instancesPerRegion);
  return [
    { failed: identifierProblem !== undefined, message: `globalClusterIdentifier ${props.globalClusterIdentifier} ${identifierProblem}` },
    ...derived.map(({ identifier, problem }) => ({ failed: true, message: `derived identifier ${identifier} ${problem}` })),
    { failed: props.regions.length === 0, message: 'regions must hold at least the primary Region' },
    { failed: new Set(regionNames).size !== regionNames.length, message: `regions must not repeat a Region: ${regionNames.join(', ')}` },
    { failed: versionProblem !== undefined, message: `engineVersion ${props.engineVersion} ${versionProblem}` },
    { failed: props.cloneOf !== undefined && !regionNames.includes(props.cloneOf.region), message: `cloneOf.region ${props.cloneOf?.region} must be one of the regions: the clone is made beside its source` },
    { failed: props.cloneOf !== undefined && engineVersionProblem(props.cloneOf.engineVersion) !== undefined, message: `cloneOf.engineVersion ${props.cloneOf?.engineVersion} ${engineVersionProblem(props.cloneOf?.engineVersion ?? '')}` },
    { failed: classProblem !== undefined, message: `instanceClass ${instanceClass} ${classProblem}` },
    {
      failed: !Number.isInteger(instancesPerRegion) || instancesPerRegion < 1 || instancesPerRegion > 16,
      message: `instancesPerRegion must be a whole number from 1 to 16, is ${instancesPerRegion}`,
    },
  ];
}
