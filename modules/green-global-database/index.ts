import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import type { RdsGlobalCluster } from '@cdktf/provider-aws/lib/rds-global-cluster';
import { Construct } from 'constructs';
import { MEMBER_CLUSTER_IGNORED_CHANGES, globalClusterFromClone } from '../aurora-global-database';
import { addAuroraInstances } from '../aurora-instances';
import { assertProps, engineVersionProblem, rdsIdentifierProblem } from '../core';

/** Where a secondary of green lives: blue's network, key and (for the same engine family) parameter groups in that Region. */
export interface GreenSecondaryPlacement {
  readonly provider: AwsProvider;
  readonly region: string;
  /** The secondary's identifier (`<blue member>-green`). */
  readonly clusterIdentifier: string;
  readonly dbSubnetGroupName: string;
  readonly securityGroupIds: string[];
  /** Zones to spread the secondary's instances over, one each in turn. @default Aurora places them */
  readonly availabilityZones?: readonly string[];
  /** That Region's KMS key: each Region's data is encrypted with its own. */
  readonly kmsKeyArn: string;
  /** Parameter groups of green's engine family in that Region. */
  readonly clusterParameterGroupName: string;
  readonly instanceParameterGroupName: string;
}

export interface GreenGlobalDatabaseProps {
  /** Provider of green's Region (the clone's). */
  readonly provider: AwsProvider;
  readonly region: string;
  /** Identifier of green's global cluster. */
  readonly globalClusterIdentifier: string;
  /** The green clone that becomes the global cluster's primary, and its instances (a secondary needs a primary with an instance). */
  readonly primary: RdsCluster;
  readonly primaryInstances: readonly RdsClusterInstance[];
  /** Engine version green runs (after an in-place upgrade of the clone when it is newer than blue's). */
  readonly engineVersion: string;
  /** A secondary in each of these Regions. */
  readonly secondaries: readonly GreenSecondaryPlacement[];
  /** Instance class of the secondaries' instances. @default 'db.r6g.large' */
  readonly instanceClass?: string;
  /** Instances per secondary. @default 1 */
  readonly instances?: number;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default 7 */
  readonly backupRetentionDays?: number;
  /** @default 7 */
  readonly performanceInsightsRetentionDays?: number;
  /** @default {} */
  readonly tags?: Record<string, string>;
}

/**
 * Green as a global database before the cut-over: a global cluster made from the green clone, and a
 * secondary in every other Region of the environment on blue's networks and keys, so that once
 * green takes the writes it already has its cross-Region disaster recovery.
 */
export class GreenGlobalDatabase extends Construct {
  public readonly globalCluster: RdsGlobalCluster;
  /** Aurora's global writer endpoint of green: where the writer's name leads after the cut-over with the global-writer target. */
  public readonly globalWriterEndpoint: string;
  public readonly secondaries: Array<{ region: string; cluster: RdsCluster; instances: RdsClusterInstance[] }>;

  constructor(scope: Construct, id: string, props: GreenGlobalDatabaseProps) {
    super(scope, id);
    const identifierProblem = rdsIdentifierProblem(props.globalClusterIdentifier);
    const versionProblem = engineVersionProblem(props.engineVersion);
    assertProps(`GreenGlobalDatabase ${id}`, [
      { failed: identifierProblem !== undefined, message: `globalClusterIdentifier ${props.globalClusterIdentifier} ${identifierProblem}` },
      { failed: versionProblem !== undefined, message: `engineVersion ${props.engineVersion} ${versionProblem}` },
      { failed: props.secondaries.some((placement) => placement.region === props.region), message: `a secondary cannot be in green's own Region ${props.region}` },
    ]);
    const deletionProtection = props.deletionProtection ?? true;
    const tags = props.tags ?? {};
    this.globalCluster = globalClusterFromClone(this, props.provider, props.globalClusterIdentifier, props.primary, deletionProtection);
    this.globalWriterEndpoint = this.globalCluster.endpoint;
    this.secondaries = props.secondaries.map((placement) => {
      const member = new Construct(this, placement.region);
      const cluster = new RdsCluster(member, 'cluster', {
        provider: placement.provider,
        clusterIdentifier: placement.clusterIdentifier,
        globalClusterIdentifier: this.globalCluster.id,
        engine: 'aurora-postgresql',
        engineVersion: props.engineVersion,
        sourceRegion: props.region,
        // A secondary holds a copy of the primary's data; the primary's final snapshot is the one that counts.
        skipFinalSnapshot: true,
        dbSubnetGroupName: placement.dbSubnetGroupName,
        vpcSecurityGroupIds: placement.securityGroupIds,
        dbClusterParameterGroupName: placement.clusterParameterGroupName,
        storageEncrypted: true,
        kmsKeyId: placement.kmsKeyArn,
        deletionProtection,
        backupRetentionPeriod: props.backupRetentionDays ?? 7,
        copyTagsToSnapshot: true,
        enabledCloudwatchLogsExports: ['postgresql'],
        tags: { ...tags, Name: placement.clusterIdentifier, BlueGreen: 'green' },
        timeouts: { create: '120m', update: '120m', delete: '120m' },
        dependsOn: [...props.primaryInstances],
        lifecycle: { ignoreChanges: MEMBER_CLUSTER_IGNORED_CHANGES },
      });
      const instances = addAuroraInstances(member, {
        provider: placement.provider,
        clusterIdentifier: placement.clusterIdentifier,
        clusterId: cluster.id,
        count: props.instances ?? 1,
        instanceClass: props.instanceClass ?? 'db.r6g.large',
        availabilityZones: placement.availabilityZones,
        dbSubnetGroupName: placement.dbSubnetGroupName,
        dbParameterGroupName: placement.instanceParameterGroupName,
        kmsKeyArn: placement.kmsKeyArn,
        performanceInsightsRetentionDays: props.performanceInsightsRetentionDays ?? 7,
        tags,
      });
      return { region: placement.region, cluster, instances };
    });
  }
}
