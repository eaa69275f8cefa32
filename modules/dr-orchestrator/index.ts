import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { DR_TASKS, assertProps, drOrchestratorNames } from '../core';
import { alarmOnFirstOccurrence, alarmTopic, bundledFunction } from '../writer-failover-handler';
import { orchestratorDefinition } from './definition';

export { TASK_STATES, orchestratorDefinition } from './definition';

type ResourceKind = 'global-cluster' | 'cluster' | 'db' | 'globalreplicationgroup' | 'replicationgroup';

/** The resource types this release runs, the task (function) for each, what each may call and on what. */
export const RESOURCE_TASKS = {
  AuroraGlobalSwitchover: { task: 'switchover', actions: ['rds:DescribeGlobalClusters', 'rds:SwitchoverGlobalCluster'], on: ['global-cluster', 'cluster'] },
  AuroraGlobalFailover: { task: 'failover', actions: ['rds:DescribeGlobalClusters', 'rds:FailoverGlobalCluster'], on: ['global-cluster', 'cluster'] },
  AuroraDetachAndPromote: { task: 'detach', actions: ['rds:DescribeGlobalClusters', 'rds:RemoveFromGlobalCluster', 'rds:DescribeDBClusters'], on: ['global-cluster', 'cluster'] },
  PromoteRDSReadReplica: { task: 'promote', actions: ['rds:DescribeDBInstances', 'rds:PromoteReadReplica'], on: ['db'] },
  FailoverElastiCacheCluster: { task: 'cache', actions: ['elasticache:DescribeGlobalReplicationGroups', 'elasticache:FailoverGlobalReplicationGroup'], on: ['globalreplicationgroup', 'replicationgroup'] },
  WaitForWriterDns: { task: 'wait-dns', actions: ['rds:DescribeGlobalClusters', 'rds:DescribeDBClusters', 'route53:ListResourceRecordSets'], on: ['global-cluster', 'cluster'] },
} as const satisfies Record<string, { task: (typeof DR_TASKS)[number]; actions: readonly string[]; on: readonly ResourceKind[] }>;

export interface DrOrchestratorProps {
  /** Provider of the Region the orchestrator runs in; a run is started in the Region that survives. */
  readonly provider: AwsProvider;
  readonly region: string;
  /** Stem of every name: the state machine `<name>-dr`, its functions `<name>-dr-<task>`. */
  readonly name: string;
  /** The bundled task functions (`functions/dr-orchestrator`). */
  readonly code: TerraformAsset;
  /** Days the logs are kept. @default 30 */
  readonly logRetentionDays?: number;
  /** E-mail addresses told when a run fails, times out or is aborted. @default [] */
  readonly alarmEmails?: readonly string[];
}

/**
 * The DR orchestrator of one Region: a Step Functions state machine that runs a plan of ordered
 * layers, and one Lambda function per task, each with a role that allows only what that task calls.
 * It can orchestrate databases this project does not own: the RDS permissions cover the account's
 * global clusters and clusters, not one environment's.
 */
export class DrOrchestrator extends Construct {
  public readonly stateMachine: SfnStateMachine;
  public readonly functions: Record<string, LambdaFunction>;
  public readonly alarmTopic: SnsTopic;

  constructor(scope: Construct, id: string, props: DrOrchestratorProps) {
    super(scope, id);
    const derived = drOrchestratorNames(props.name);
    assertProps(`DrOrchestrator ${id}`, [derived.stateMachine, ...derived.functions].map(({ name, maxLength, what }) => ({
      failed: name.length > maxLength, message: `${what} name ${name} is longer than the ${maxLength} characters AWS allows`,
    })));
    const names = { stateMachine: derived.stateMachine.name, functions: Object.fromEntries(derived.functions.map((fn) => [fn.task, fn.name])) };
    const { provider } = props;
    const partition = new DataAwsPartition(this, 'partition', { provider }).partition;
    const account = new DataAwsCallerIdentity(this, 'account', { provider }).accountId;
    const retention = props.logRetentionDays ?? 30;
    const arnsOf = (kind: ResourceKind) => ({
      'global-cluster': `arn:${partition}:rds::${account}:global-cluster:*`,
      cluster: `arn:${partition}:rds:*:${account}:cluster:*`,
      db: `arn:${partition}:rds:*:${account}:db:*`,
      globalreplicationgroup: `arn:${partition}:elasticache::${account}:globalreplicationgroup:*`,
      replicationgroup: `arn:${partition}:elasticache:*:${account}:replicationgroup:*`,
    })[kind];

    const lambdaFunction = (task: string, statements: object[], environment: Record<string, string>) => {
      const name = names.functions[task];
      const logGroup = new CloudwatchLogGroup(this, `${task}-logs`, { provider, name: `/aws/lambda/${name}`, retentionInDays: retention });
      const role = new IamRole(this, `${task}-role`, {
        provider,
        namePrefix: `dr-${task}-`,
        description: `DR orchestrator task ${task} in ${props.region}`,
        assumeRolePolicy: assumedBy('lambda.amazonaws.com'),
      });
      const policy = new IamRolePolicy(this, `${task}-permissions`, {
        provider,
        name: `dr-${task}`,
        role: role.id,
        policy: Fn.jsonencode({
          Version: '2012-10-17',
          Statement: [{ Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logGroup.arn}:*` }, ...statements],
        }),
      });
      return new LambdaFunction(this, `${task}-function`, {
        provider,
        functionName: name,
        description: `DR orchestrator: ${task}`,
        role: role.arn,
        ...bundledFunction(props.code),
        timeout: 60,
        environment: { variables: { DR_TASK: task, ...environment } },
        dependsOn: [logGroup, policy],
      });
    };

    const resourceFunctions = Object.fromEntries(Object.entries(RESOURCE_TASKS).map(([type, { task, actions, on }]) => [
      type,
      lambdaFunction(task, [
        { Sid: 'Service', Effect: 'Allow', Action: actions.filter((action) => !action.startsWith('route53:')), Resource: on.map(arnsOf) },
        // The zone's records may be read, never changed: the writer-DNS handlers own them.
        ...(actions.some((action) => action.startsWith('route53:')) ? [{ Sid: 'ReadRecords', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: `arn:${partition}:route53:::hostedzone/*` }] : []),
      ], {}),
    ]));
    const plan = lambdaFunction('plan', [
      // ListExports has no resource-level permissions; references may name any parameter of the account.
      { Sid: 'Exports', Effect: 'Allow', Action: 'cloudformation:ListExports', Resource: '*' },
      { Sid: 'Parameters', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:${partition}:ssm:${props.region}:${account}:parameter/*` },
    ], {
      DR_FUNCTION_ARNS: Fn.jsonencode(Object.fromEntries(Object.entries(resourceFunctions).map(([type, fn]) => [type, fn.arn]))),
    });
    const summary = lambdaFunction('summary', [], {});
    this.functions = { plan, summary, ...resourceFunctions };

    const logGroup = new CloudwatchLogGroup(this, 'state-machine-logs', { provider, name: `/aws/vendedlogs/states/${names.stateMachine}`, retentionInDays: retention });
    const role = new IamRole(this, 'state-machine-role', {
      provider,
      namePrefix: 'dr-orchestrator-',
      description: `DR orchestrator state machine in ${props.region}`,
      assumeRolePolicy: assumedBy('states.amazonaws.com'),
    });
    new IamRolePolicy(this, 'state-machine-permissions', {
      provider,
      name: 'dr-orchestrator',
      role: role.id,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Tasks', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: Object.values(this.functions).map((fn) => fn.arn) },
          // Step Functions' log delivery has no resource-level permissions.
          {
            Sid: 'LogDelivery',
            Effect: 'Allow',
            Action: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
              'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
            Resource: '*',
          },
        ],
      }),
    });
    this.stateMachine = new SfnStateMachine(this, 'state-machine', {
      provider,
      name: names.stateMachine,
      roleArn: role.arn,
      definition: Fn.jsonencode(orchestratorDefinition({ planFunctionArn: plan.arn, summaryFunctionArn: summary.arn })),
      // Execution data stays out of the logs: plans carry identifiers, and some teams' carry more.
      loggingConfiguration: { logDestination: `${logGroup.arn}:*`, includeExecutionData: false, level: 'ERROR' },
      tracingConfiguration: { enabled: true },
    });

    this.alarmTopic = alarmTopic(this, provider, `${names.stateMachine}-alarms`, props.alarmEmails ?? []);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      new CloudwatchMetricAlarm(this, `${metric}-alarm`, {
        provider,
        alarmName: `${names.stateMachine}-${metric}-${props.region}`,
        alarmDescription: `A DR run in ${props.region} ended ${metric.replace('Executions', '').toLowerCase()}; its output names the layer and resource.`,
        namespace: 'AWS/States',
        metricName: metric,
        dimensions: { StateMachineArn: this.stateMachine.arn },
        statistic: 'Sum',
        ...alarmOnFirstOccurrence(this.alarmTopic),
      });
    }
  }
}

function assumedBy(service: string): string {
  return Fn.jsonencode({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
}
