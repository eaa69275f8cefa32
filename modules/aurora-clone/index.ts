import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { Construct } from 'constructs';
import { addAuroraInstances } from '../aurora-instances';
import { assertProps, finalSnapshotIdentifier, globalInstanceClassProblem, rdsIdentifierProblem } from '../core';

export interface AuroraCloneProps {
  /** Provider of the source cluster's Region; a clone lives beside its source. */
  readonly provider: AwsProvider;
  /** Identifier of the cluster to clone (blue). */
  readonly sourceClusterIdentifier: string;
  /** Identifier of the clone (green). */
  readonly cloneIdentifier: string;
  /** The source's DB subnet group, security groups, KMS key and parameter groups: the clone is its twin. */
  readonly dbSubnetGroupName: string;
  readonly securityGroupIds: string[];
  readonly kmsKeyArn: string;
  readonly clusterParameterGroupName: string;
  readonly instanceParameterGroupName: string;
  /** Instance class of the clone's instances. @default 'db.r6g.large' */
  readonly instanceClass?: string;
  /** Instances of the clone. @default 1 */
  readonly instances?: number;
  /** After cut-over the clone is production: keep it from being deleted. @default true */
  readonly deletionProtection?: boolean;
  /** Days of automated backups. @default 7 */
  readonly backupRetentionDays?: number;
  /** Days Performance Insights keeps data. @default 7 */
  readonly performanceInsightsRetentionDays?: number;
  /** The version the clone runs once upgraded in place: its final snapshot is named after it, so that a later clone under the same identifier does not collide. @default - the final snapshot is `<cloneIdentifier>-final` */
  readonly engineVersion?: string;
}

/**
 * A copy-on-write clone of an Aurora PostgreSQL cluster, restored to the latest restorable time: the
 * green of a blue/green upgrade. It shares storage pages with its source until either writes them,
 * so creating it takes minutes whatever the database size.
 */
export class AuroraClone extends Construct {
  public readonly cluster: RdsCluster;
  public readonly instances: RdsClusterInstance[];

  constructor(scope: Construct, id: string, props: AuroraCloneProps) {
    super(scope, id);
    const instances = props.instances ?? 1;
    const instanceClass = props.instanceClass ?? 'db.r6g.large';
    const identifierProblem = rdsIdentifierProblem(props.cloneIdentifier);
    const classProblem = globalInstanceClassProblem(instanceClass);
    assertProps(`AuroraClone ${id}`, [
      { failed: identifierProblem !== undefined, message: `cloneIdentifier ${props.cloneIdentifier} ${identifierProblem}` },
      { failed: props.cloneIdentifier === props.sourceClusterIdentifier, message: 'cloneIdentifier must differ from sourceClusterIdentifier' },
      { failed: classProblem !== undefined, message: `instanceClass ${instanceClass} ${classProblem}` },
      { failed: !Number.isInteger(instances) || instances < 1 || instances > 16, message: `instances must be 1 to 16, is ${instances}` },
    ]);
    const { provider } = props;

    this.cluster = new RdsCluster(this, 'cluster', {
      provider,
      clusterIdentifier: props.cloneIdentifier,
      engine: 'aurora-postgresql',
      restoreToPointInTime: {
        sourceClusterIdentifier: props.sourceClusterIdentifier,
        restoreType: 'copy-on-write',
        useLatestRestorableTime: true,
      },
      dbSubnetGroupName: props.dbSubnetGroupName,
      vpcSecurityGroupIds: props.securityGroupIds,
      dbClusterParameterGroupName: props.clusterParameterGroupName,
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      deletionProtection: props.deletionProtection ?? true,
      backupRetentionPeriod: props.backupRetentionDays ?? 7,
      copyTagsToSnapshot: true,
      enabledCloudwatchLogsExports: ['postgresql'],
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: props.engineVersion ? finalSnapshotIdentifier(props.cloneIdentifier, props.engineVersion) : `${props.cloneIdentifier}-final`,
      tags: { Name: props.cloneIdentifier, BlueGreen: 'green', ClonedFrom: props.sourceClusterIdentifier },
      timeouts: { create: '120m', update: '120m', delete: '120m' },
      // The restore happened once; a later apply must not read it as a request to restore again.
      // The engine version, and with a major upgrade the parameter group, change on green in place,
      // outside Terraform, before the cut-over; making green global sets its global cluster.
      lifecycle: { ignoreChanges: ['restore_to_point_in_time', 'engine_version', 'db_cluster_parameter_group_name', 'global_cluster_identifier'] },
    });

    this.instances = addAuroraInstances(this, {
      provider,
      clusterIdentifier: props.cloneIdentifier,
      clusterId: this.cluster.id,
      count: instances,
      instanceClass,
      dbSubnetGroupName: props.dbSubnetGroupName,
      dbParameterGroupName: props.instanceParameterGroupName,
      kmsKeyArn: props.kmsKeyArn,
      performanceInsightsRetentionDays: props.performanceInsightsRetentionDays ?? 7,
      // The in-place major upgrade swaps the instances' group with the cluster's.
      parameterGroupChangesOutsideTerraform: true,
    });
  }
}
