import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { Construct } from 'constructs';
import { instanceIdentifier } from '../core';

export interface AuroraInstancesProps {
  readonly provider: AwsProvider;
  /** The cluster's identifier: instances are named `<identifier>-<n>`. */
  readonly clusterIdentifier: string;
  /** Reference to the cluster resource's id, so instances are made after it. */
  readonly clusterId: string;
  readonly count: number;
  readonly instanceClass: string;
  readonly dbSubnetGroupName: string;
  readonly dbParameterGroupName: string;
  /** Key for Performance Insights: the cluster's own Region key. */
  readonly kmsKeyArn: string;
  readonly performanceInsightsRetentionDays: number;
  /** Zones to spread the instances over, in order. @default - chosen by RDS */
  readonly availabilityZones?: readonly string[];
  /** Tags added to each instance, next to its Name. @default {} */
  readonly tags?: Record<string, string>;
  /** The parameter group is swapped outside Terraform (an in-place major upgrade of a clone): an apply must not put the old one back. @default false */
  readonly parameterGroupChangesOutsideTerraform?: boolean;
}

/** The instances of one Aurora cluster, as every cluster of this project has them. */
export function addAuroraInstances(scope: Construct, props: AuroraInstancesProps): RdsClusterInstance[] {
  const zones = props.availabilityZones ?? [];
  return Array.from({ length: props.count }, (_, index) => {
    const identifier = instanceIdentifier(props.clusterIdentifier, index + 1);
    return new RdsClusterInstance(scope, `instance-${index + 1}`, {
      provider: props.provider,
      identifier,
      clusterIdentifier: props.clusterId,
      engine: 'aurora-postgresql',
      instanceClass: props.instanceClass,
      availabilityZone: zones.length > 0 ? zones[index % zones.length] : undefined,
      dbSubnetGroupName: props.dbSubnetGroupName,
      dbParameterGroupName: props.dbParameterGroupName,
      publiclyAccessible: false,
      // Global databases do not support automatic minor upgrades; the global cluster's version rules.
      autoMinorVersionUpgrade: false,
      promotionTier: Math.min(index, 15),
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.kmsKeyArn,
      performanceInsightsRetentionPeriod: props.performanceInsightsRetentionDays,
      copyTagsToSnapshot: true,
      tags: { ...props.tags, Name: identifier },
      timeouts: { create: '120m', update: '120m', delete: '120m' },
      ...(props.parameterGroupChangesOutsideTerraform && { lifecycle: { ignoreChanges: ['db_parameter_group_name'] } }),
    });
  });
}
