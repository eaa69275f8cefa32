/**
 * Which function runs each resource type, and what it may call on which kinds of resources. The
 * construct writes each task's role from this table, and the readiness evaluation simulates the same
 * actions against each role, so a permission the code needs and the role lacks is found before a run.
 */
import type { ResourceType } from './plan';

/** Kinds of ARN a task acts on; the construct turns each into the account's ARN pattern. */
export type ArnKind =
  | 'global-cluster' | 'cluster' | 'db' | 'subgrp' | 'cluster-pg' | 'pg'
  | 'globalreplicationgroup' | 'replicationgroup' | 'hostedzone' | 'kms-key' | 'sns-topic' | 'lambda-function';

export interface TaskPermissions {
  /** The function (`<name>-dr-<task>`) that starts and checks resources of the type. */
  readonly task: string;
  /** Every action its code calls, with the kinds of resource each is called on. */
  readonly statements: ReadonlyArray<{ readonly actions: readonly string[]; readonly on: readonly ArnKind[] }>;
}

const GLOBAL_READ = { actions: ['rds:DescribeGlobalClusters'], on: ['global-cluster'] } as const;
const AURORA_READ = { actions: ['rds:DescribeGlobalClusters', 'rds:DescribeDBClusters'], on: ['global-cluster', 'cluster'] } as const;

export const RESOURCE_TASKS: Readonly<Record<ResourceType, TaskPermissions>> = {
  AuroraGlobalSwitchover: { task: 'switchover', statements: [GLOBAL_READ, { actions: ['rds:SwitchoverGlobalCluster'], on: ['global-cluster', 'cluster'] }] },
  AuroraGlobalFailover: { task: 'failover', statements: [GLOBAL_READ, { actions: ['rds:FailoverGlobalCluster'], on: ['global-cluster', 'cluster'] }] },
  AuroraDetachAndPromote: { task: 'detach', statements: [AURORA_READ, { actions: ['rds:RemoveFromGlobalCluster'], on: ['global-cluster', 'cluster'] }] },
  PromoteRDSReadReplica: { task: 'promote', statements: [{ actions: ['rds:DescribeDBInstances', 'rds:PromoteReadReplica'], on: ['db'] }] },
  FailoverElastiCacheCluster: {
    task: 'cache',
    statements: [{ actions: ['elasticache:DescribeGlobalReplicationGroups', 'elasticache:FailoverGlobalReplicationGroup'], on: ['globalreplicationgroup', 'replicationgroup'] }],
  },
  CreateAuroraSecondaryDBCluster: {
    task: 'create-secondary',
    statements: [
      AURORA_READ,
      { actions: ['rds:DescribeDBInstances'], on: ['db'] },
      { actions: ['rds:CreateGlobalCluster'], on: ['global-cluster', 'cluster'] },
      { actions: ['rds:CreateDBCluster'], on: ['global-cluster', 'cluster', 'subgrp', 'cluster-pg'] },
      { actions: ['rds:CreateDBInstance'], on: ['cluster', 'db', 'subgrp', 'pg'] },
      // An encrypted secondary is created with the Region's key, through RDS only.
      { actions: ['kms:DescribeKey', 'kms:CreateGrant'], on: ['kms-key'] },
    ],
  },
  CreateRDSReadReplica: {
    task: 'create-replica',
    statements: [
      { actions: ['rds:DescribeDBInstances', 'rds:CreateDBInstanceReadReplica'], on: ['db', 'subgrp'] },
      { actions: ['kms:DescribeKey', 'kms:CreateGrant'], on: ['kms-key'] },
    ],
  },
  ManualApproval: { task: 'approval', statements: [{ actions: ['sns:Publish'], on: ['sns-topic'] }] },
  CustomLambda: { task: 'custom', statements: [{ actions: ['lambda:InvokeFunction'], on: ['lambda-function'] }] },
  WaitForWriterDns: {
    task: 'wait-dns',
    statements: [AURORA_READ, { actions: ['route53:ListResourceRecordSets'], on: ['hostedzone'] }],
  },
};

/** Every action a task's code calls. */
export function actionsOf(type: ResourceType): string[] {
  return [...new Set(RESOURCE_TASKS[type].statements.flatMap((statement) => statement.actions))];
}
