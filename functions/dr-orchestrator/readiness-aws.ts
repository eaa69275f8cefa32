/** The AWS calls of the readiness evaluation: one call (or one paged listing) each. */
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SimulatedDecision } from './readiness';

/** IAM's verdict on each action for each resource, for the role; kms:ViaService says the key is used through RDS in `region`. */
export async function simulatePrincipal(iam: IAMClient, roleArn: string, actions: readonly string[], resourceArns: readonly string[], region: string): Promise<SimulatedDecision[]> {
  const decisions: SimulatedDecision[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: roleArn,
      ActionNames: [...actions],
      ResourceArns: [...resourceArns],
      ContextEntries: [{ ContextKeyName: 'kms:ViaService', ContextKeyType: 'string', ContextKeyValues: [`rds.${region}.amazonaws.com`] }],
      Marker,
    }));
    for (const result of page.EvaluationResults ?? []) {
      const perResource = result.ResourceSpecificResults ?? [];
      if (perResource.length === 0) decisions.push({ action: result.EvalActionName ?? '', decision: result.EvalDecision ?? 'implicitDeny', resource: result.EvalResourceName });
      for (const specific of perResource) decisions.push({ action: result.EvalActionName ?? '', decision: specific.EvalResourceDecision ?? 'implicitDeny', resource: specific.EvalResourceName });
    }
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  return decisions;
}

/** The newest AuroraGlobalDBReplicationLag of a secondary cluster in the last 10 minutes, in seconds; undefined when there is none. */
export async function replicationLagSeconds(cloudwatch: CloudWatchClient, clusterIdentifier: string, now: number): Promise<number | undefined> {
  const { MetricDataResults } = await cloudwatch.send(new GetMetricDataCommand({
    StartTime: new Date(now - 600_000),
    EndTime: new Date(now),
    ScanBy: 'TimestampDescending',
    MetricDataQueries: [{
      Id: 'lag',
      MetricStat: {
        Metric: { Namespace: 'AWS/RDS', MetricName: 'AuroraGlobalDBReplicationLag', Dimensions: [{ Name: 'DBClusterIdentifier', Value: clusterIdentifier }] },
        Period: 60,
        Stat: 'Maximum',
      },
    }],
  }));
  const latest = MetricDataResults?.[0]?.Values?.[0];
  return latest === undefined ? undefined : latest / 1000;
}

/** Every plan stored under `path` (one SSM parameter each, its value the payload), by name. */
export async function storedPlans(ssm: SSMClient, path: string): Promise<Array<{ name: string; text: string }>> {
  const plans: Array<{ name: string; text: string }> = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, NextToken }));
    for (const parameter of page.Parameters ?? []) plans.push({ name: (parameter.Name ?? '').slice(path.length).replace(/^\//, ''), text: parameter.Value ?? '' });
    NextToken = page.NextToken;
  } while (NextToken);
  return plans;
}

/** The count of problems per plan and in all, which the readiness alarm watches. */
export async function putReadiness(cloudwatch: CloudWatchClient, namespace: string, stateMachine: string, counts: ReadonlyArray<{ plan: string; problems: number }>): Promise<void> {
  const total = counts.reduce((sum, count) => sum + count.problems, 0);
  const data = [
    { MetricName: 'PlanReadinessProblems', Dimensions: [{ Name: 'StateMachine', Value: stateMachine }], Value: total, Unit: 'Count' as const },
    ...counts.map((count) => ({
      MetricName: 'PlanReadinessProblems',
      Dimensions: [{ Name: 'StateMachine', Value: stateMachine }, { Name: 'Plan', Value: count.plan }],
      Value: count.problems,
      Unit: 'Count' as const,
    })),
  ];
  // PutMetricData takes at most 1000 data per call.
  for (let index = 0; index < data.length; index += 1000) {
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(index, index + 1000) }));
  }
}
