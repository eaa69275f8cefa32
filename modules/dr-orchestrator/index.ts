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
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { RESOURCE_TASKS, type ArnKind, actionsOf } from '../../functions/dr-orchestrator/permissions';
import { parsePlan, PlanError } from '../../functions/dr-orchestrator/plan';
import { assertProps, drOrchestratorNames } from '../core';
import { alarmOnFirstOccurrence, alarmTopic, bundledFunction } from '../writer-failover-handler';
import { orchestratorDefinition } from './definition';

export { TASK_STATES, orchestratorDefinition } from './definition';

export { RESOURCE_TASKS } from '../../functions/dr-orchestrator/permissions';

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
  /** E-mail addresses told when a run fails, times out or is aborted, when a plan is not ready, and asked for approvals. @default [] */
  readonly alarmEmails?: readonly string[];
  /** Lambda functions (ARNs; a trailing `*` matches any rest) CustomLambda steps may invoke. @default [] (none) */
  readonly customFunctionArns?: readonly string[];
  /** SNS topics ManualApproval steps may ask on, besides the orchestrator's own approval topic. @default [] */
  readonly approvalTopicArns?: readonly string[];
  /** Plans the readiness evaluation checks, by name; each is validated at synth and stored as an SSM parameter under `plansPath`. @default {} */
  readonly plans?: Readonly<Record<string, unknown>>;
  /** SSM path the readiness evaluation reads every plan from (plans added there by hand are checked too). @default `/keycloak-aurora-dr/<name>/dr-plans` */
  readonly plansPath?: string;
  /** How often every plan is evaluated (EventBridge schedule expression). @default rate(30 minutes) */
  readonly readinessSchedule?: string;
  /** Replication lag, in seconds, above which a plan that moves a writer is reported not ready. @default 60 */
  readonly maxReplicationLagSeconds?: number;
}

/**
 * The DR orchestrator of one Region: a Step Functions state machine that runs a plan of ordered
 * layers, one Lambda function per task, each with a role that allows only what that task calls, and
 * a scheduled readiness evaluation of every stored plan that alarms when one would fail.
 * It can orchestrate databases this project does not own: the RDS permissions cover the account's
 * global clusters and clusters, not one environment's.
 */
export class DrOrchestrator extends Construct {
  public readonly stateMachine: SfnStateMachine;
  public readonly functions: Record<string, LambdaFunction>;
  public readonly alarmTopic: SnsTopic;
  /** Where ManualApproval steps ask by default; the alarm e-mails are subscribed. */
  public readonly approvalTopic: SnsTopic;

  constructor(scope: Construct, id: string, props: DrOrchestratorProps) {
    super(scope, id);
    const derived = drOrchestratorNames(props.name);
    const plans = props.plans ?? {};
    const invalidPlans = Object.entries(plans).map(([name, plan]) => ({ name, problems: planProblems(plan) }));
    assertProps(`DrOrchestrator ${id}`, [
      ...[derived.stateMachine, derived.approvalTopic, derived.readinessRule, ...derived.functions].map(({ name, maxLength, what }) => ({
        failed: name.length > maxLength, message: `${what} name ${name} is longer than the ${maxLength} characters AWS allows`,
      })),
      ...invalidPlans.map(({ name, problems }) => ({ failed: problems.length > 0, message: `plan ${name} is invalid: ${problems.join('; ')}` })),
      ...Object.keys(plans).map((name) => ({ failed: !/^[A-Za-z0-9_.-]+$/.test(name), message: `plan name ${JSON.stringify(name)} may hold only letters, digits, '.', '_' and '-'` })),
    ]);
    const names = { stateMachine: derived.stateMachine.name, functions: Object.fromEntries(derived.functions.map((fn) => [fn.task, fn.name])) };
    const { provider } = props;
    const partition = new DataAwsPartition(this, 'partition', { provider }).partition;
    const account = new DataAwsCallerIdentity(this, 'account', { provider }).accountId;
    const retention = props.logRetentionDays ?? 30;
    const plansPath = props.plansPath ?? `/keycloak-aurora-dr/${props.name}/dr-plans`;
    const emails = props.alarmEmails ?? [];
    this.alarmTopic = alarmTopic(this, provider, `${names.stateMachine}-alarms`, emails);
    this.approvalTopic = alarmTopic(this, provider, derived.approvalTopic.name, emails, { topic: 'approvals', email: 'approval-email' });
    const approvalTopics = [this.approvalTopic.arn, ...(props.approvalTopicArns ?? [])];
    const customFunctions = [...(props.customFunctionArns ?? [])];
    const arnsOf = (kind: ArnKind): string[] => ({
      'global-cluster': [`arn:${partition}:rds::${account}:global-cluster:*`],
      cluster: [`arn:${partition}:rds:*:${account}:cluster:*`],
      db: [`arn:${partition}:rds:*:${account}:db:*`],
      subgrp: [`arn:${partition}:rds:*:${account}:subgrp:*`],
      'cluster-pg': [`arn:${partition}:rds:*:${account}:cluster-pg:*`],
      pg: [`arn:${partition}:rds:*:${account}:pg:*`],
      globalreplicationgroup: [`arn:${partition}:elasticache::${account}:globalreplicationgroup:*`],
      replicationgroup: [`arn:${partition}:elasticache:*:${account}:replicationgroup:*`],
      hostedzone: [`arn:${partition}:route53:::hostedzone/*`],
      'kms-key': [`arn:${partition}:kms:*:${account}:key/*`],
      'sns-topic': approvalTopics,
      'lambda-function': customFunctions,
    })[kind];
    const statementsOf = (type: keyof typeof RESOURCE_TASKS) => RESOURCE_TASKS[type].statements.map((statement, index) => ({
      Sid: `Step${index + 1}`,
      Effect: 'Allow',
      Action: statement.actions,
      Resource: [...new Set(statement.on.flatMap(arnsOf))],
      // A key is used only by RDS on the step's behalf, never directly.
      ...(statement.on.includes('kms-key') && { Condition: { StringLike: { 'kms:ViaService': 'rds.*.amazonaws.com' } } }),
    }))
      // No custom function allowed: no statement, rather than one on no resource.
      .filter((statement) => statement.Resource.length > 0);

    const roles: Record<string, IamRole> = {};
    const lambdaFunction = (task: string, statements: object[], environment: Record<string, string>, timeout = 60) => {
      const name = names.functions[task];
      const logGroup = new CloudwatchLogGroup(this, `${task}-logs`, { provider, name: `/aws/lambda/${name}`, retentionInDays: retention });
      const role = new IamRole(this, `${task}-role`, {
        provider,
        namePrefix: `dr-${task}-`,
        description: `DR orchestrator task ${task} in ${props.region}`,
        assumeRolePolicy: assumedBy('lambda.amazonaws.com'),
      });
      roles[task] = role;
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
        timeout,
        environment: { variables: { DR_TASK: task, ...environment } },
        dependsOn: [logGroup, policy],
      });
    };

    const allowed = {
      DR_APPROVAL_TOPIC: this.approvalTopic.arn,
      DR_APPROVAL_TOPICS: Fn.jsonencode(props.approvalTopicArns ?? []),
      DR_CUSTOM_FUNCTIONS: Fn.jsonencode(customFunctions),
    };
    const resourceTypes = Object.keys(RESOURCE_TASKS) as Array<keyof typeof RESOURCE_TASKS>;
    // A custom function may run up to Lambda's 900 s limit; its step waits for it.
    const resourceFunctions = Object.fromEntries(resourceTypes.map((type) => [type, lambdaFunction(RESOURCE_TASKS[type].task, statementsOf(type), {}, type === 'CustomLambda' ? 900 : 60)]));
    const functionArns = Fn.jsonencode(Object.fromEntries(Object.entries(resourceFunctions).map(([type, fn]) => [type, fn.arn])));
    const references = [
      // ListExports has no resource-level permissions; references may name any parameter of the account.
      { Sid: 'Exports', Effect: 'Allow', Action: 'cloudformation:ListExports', Resource: '*' },
      { Sid: 'Parameters', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:${partition}:ssm:${props.region}:${account}:parameter/*` },
    ];
    const plan = lambdaFunction('plan', references, { DR_FUNCTION_ARNS: functionArns, ...allowed });
    const summary = lambdaFunction('summary', [], {});

    // The evaluation only looks: every describe its steps' assessments call, the plans, the lag, and IAM's simulation of the task roles.
    const readActions = [...new Set(resourceTypes.flatMap((type) => actionsOf(type)).filter((action) => /^(rds|elasticache):Describe/.test(action)))].sort();
    const evaluate = lambdaFunction('evaluate', [
      ...references,
      { Sid: 'Look', Effect: 'Allow', Action: readActions, Resource: [...new Set((['global-cluster', 'cluster', 'db', 'globalreplicationgroup', 'replicationgroup'] as const).flatMap(arnsOf))] },
      { Sid: 'ReadRecords', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: arnsOf('hostedzone') },
      { Sid: 'Plans', Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: `arn:${partition}:ssm:${props.region}:${account}:parameter${plansPath}` },
      { Sid: 'Simulate', Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: Object.entries(roles).filter(([task]) => resourceTypes.some((type) => RESOURCE_TASKS[type].task === task)).map(([, role]) => role.arn) },
      // GetMetricData and PutMetricData have no resource-level permissions; the namespace condition narrows the put.
      { Sid: 'Lag', Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
      { Sid: 'Readiness', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': READINESS_NAMESPACE } } },
    ], {
      DR_FUNCTION_ARNS: functionArns,
      DR_ROLE_ARNS: Fn.jsonencode(Object.fromEntries(resourceTypes.map((type) => [type, roles[RESOURCE_TASKS[type].task].arn]))),
      DR_PLANS_PATH: plansPath,
      DR_READINESS_NAMESPACE: READINESS_NAMESPACE,
      DR_STATE_MACHINE: names.stateMachine,
      DR_MAX_LAG_SECONDS: String(props.maxReplicationLagSeconds ?? 60),
      ...allowed,
    }, 300);
    this.functions = { plan, summary, evaluate, ...resourceFunctions };

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
          { Sid: 'Tasks', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [plan, summary, ...Object.values(resourceFunctions)].map((fn) => fn.arn) },
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

    for (const [name, payload] of Object.entries(plans)) {
      new SsmParameter(this, `plan-${name}`, {
        provider,
        name: `${plansPath}/${name}`,
        type: 'String',
        // Above 4 KB a plan needs the advanced tier; intelligent tiering picks it only then.
        tier: 'Intelligent-Tiering',
        value: JSON.stringify(payload),
        description: `DR plan ${name}, checked by the readiness evaluation in ${props.region}`,
      });
    }
    const schedule = new CloudwatchEventRule(this, 'readiness-schedule', {
      provider,
      name: derived.readinessRule.name,
      description: `Evaluates every DR plan under ${plansPath} in ${props.region}, changing nothing`,
      scheduleExpression: props.readinessSchedule ?? 'rate(30 minutes)',
    });
    new CloudwatchEventTarget(this, 'readiness-target', { provider, rule: schedule.name, arn: evaluate.arn });
    new LambdaPermission(this, 'readiness-invoke', {
      provider,
      statementId: 'ReadinessSchedule',
      action: 'lambda:InvokeFunction',
      functionName: evaluate.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: schedule.arn,
    });
    new CloudwatchMetricAlarm(this, 'readiness-alarm', {
      provider,
      alarmName: `${names.stateMachine}-plan-not-ready-${props.region}`,
      alarmDescription: `A DR plan would fail if run in ${props.region} now, or the evaluation did not run; the ${names.functions.evaluate} logs say which and why.`,
      namespace: READINESS_NAMESPACE,
      metricName: 'PlanReadinessProblems',
      dimensions: { StateMachine: names.stateMachine },
      statistic: 'Maximum',
      // One period spans two scheduled evaluations, so a missing figure means the evaluation stopped.
      period: 3600,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'breaching',
      alarmActions: [this.alarmTopic.arn],
      okActions: [this.alarmTopic.arn],
    });
  }
}

/** The CloudWatch namespace the readiness evaluation puts its counts in. */
export const READINESS_NAMESPACE = 'KeycloakAuroraDr/Readiness';

function planProblems(plan: unknown): readonly string[] {
  try {
    parsePlan(plan);
    return [];
  } catch (error) {
    if (error instanceof PlanError) return error.problems;
    throw error;
  }
}

function assumedBy(service: string): string {
  return Fn.jsonencode({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });
}
