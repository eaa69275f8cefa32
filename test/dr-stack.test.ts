import { App, TerraformAsset, TerraformStack, AssetType } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environments } from '../environments';
import { parsePlan } from '../functions/dr-orchestrator/plan';
import { DrOrchestrator } from '../modules/dr-orchestrator';
import { drStackName } from '../stacks';
import { resourcesOf, synthesize, synthesizeApp } from './synth';

describe('DrStack and DrOrchestrator', () => {
  const stacks = synthesizeApp(environments.filter((env) => env.name === 'prod'));
  const dr = stacks[drStackName('prod')];
  const regions = ['eu-west-1', 'eu-central-1'];
  /** The actions a role policy allows, read from its jsonencode() expression. */
  const policyOf = (name: string): string => resourcesOf(dr, 'aws_iam_role_policy').find((p) => p.name.startsWith(`dr-${regions[0]}_${name}-permissions`))!.config.policy;
  /** The actions (not the condition keys) a role policy allows. */
  const actionsOf = (name: string) => [...new Set(policyOf(name).match(/"[a-z0-9]+:[A-Za-z]+"(?! =)/g)!.map((action) => action.slice(1, -1)))].sort();

  test('THEN it has a state machine in every Region of the environment, with its own provider, and depends on no other stack', () => {
    const machines = resourcesOf(dr, 'aws_sfn_state_machine').map(({ config }) => config);
    expect(machines.map((machine) => [machine.name, machine.provider]).sort()).toEqual(regions.map((region) => ['keycloak-prod-dr', `aws.${region}`]).sort());
    expect(JSON.stringify(dr)).not.toMatch(/cross-stack-reference-input/);
  });

  test('THEN each Region runs one function per task, each with its own role', () => {
    const functions = resourcesOf(dr, 'aws_lambda_function').map(({ config }) => config);
    const tasks = ['approval', 'cache', 'create-replica', 'create-secondary', 'custom', 'detach', 'evaluate', 'failover', 'plan', 'promote', 'summary', 'switchover', 'wait-dns'];
    expect(functions.filter((fn) => fn.provider === 'aws.eu-central-1').map((fn) => [fn.function_name, fn.environment.variables.DR_TASK]).sort())
      .toEqual(tasks.map((task) => [`keycloak-prod-dr-${task}`, task]));
    expect(new Set(functions.map((fn) => fn.role)).size).toBe(functions.length);
    expect(functions.every((fn) => fn.runtime === 'nodejs22.x' && fn.architectures[0] === 'arm64')).toBe(true);
    // A custom function may run for Lambda's 900 s; the evaluation reads every plan; the rest answer in a minute.
    expect(Object.fromEntries(functions.filter((fn) => fn.provider === 'aws.eu-central-1').map((fn) => [fn.environment.variables.DR_TASK, fn.timeout])))
      .toMatchObject({ custom: 900, evaluate: 300, switchover: 60, plan: 60 });
  });

  test('THEN every task role allows only what that task calls', () => {
    expect(actionsOf('switchover')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeGlobalClusters', 'rds:SwitchoverGlobalCluster']);
    expect(actionsOf('failover')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeGlobalClusters', 'rds:FailoverGlobalCluster']);
    expect(actionsOf('detach')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeDBClusters', 'rds:DescribeGlobalClusters', 'rds:RemoveFromGlobalCluster']);
    expect(actionsOf('promote')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeDBInstances', 'rds:PromoteReadReplica']);
    expect(actionsOf('wait-dns')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeDBClusters', 'rds:DescribeGlobalClusters', 'route53:ListResourceRecordSets']);
    expect(actionsOf('cache')).toEqual(['elasticache:DescribeGlobalReplicationGroups', 'elasticache:FailoverGlobalReplicationGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actionsOf('summary')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actionsOf('plan')).toEqual(['cloudformation:ListExports', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ssm:GetParameter']);
    expect(actionsOf('create-secondary')).toEqual(['kms:CreateGrant', 'kms:DescribeKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 'rds:CreateDBCluster', 'rds:CreateDBInstance', 'rds:CreateGlobalCluster', 'rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeGlobalClusters']);
    expect(policyOf('create-secondary')).toContain('"kms:ViaService" = "rds.*.amazonaws.com"');
    expect(actionsOf('create-replica')).toEqual(['kms:CreateGrant', 'kms:DescribeKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 'rds:CreateDBInstanceReadReplica', 'rds:DescribeDBInstances']);
    expect(actionsOf('approval')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'sns:Publish']);
    // prod allows no custom function, so its role may invoke none.
    expect(actionsOf('custom')).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    // The evaluation only looks, simulates the task roles, and puts its own counts.
    expect(actionsOf('evaluate')).toEqual(['cloudformation:ListExports', 'cloudwatch:GetMetricData', 'cloudwatch:PutMetricData', 'elasticache:DescribeGlobalReplicationGroups', 'iam:SimulatePrincipalPolicy',
      'logs:CreateLogStream', 'logs:PutLogEvents', 'rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeGlobalClusters', 'route53:ListResourceRecordSets', 'ssm:GetParameter', 'ssm:GetParametersByPath']);
    expect(policyOf('evaluate')).toContain('"cloudwatch:namespace" = "KeycloakAuroraDr/Readiness"');
    expect(actionsOf('state-machine')).toEqual(expect.arrayContaining(['lambda:InvokeFunction']));
    expect(actionsOf('state-machine').filter((action) => !action.startsWith('logs:'))).toEqual(['lambda:InvokeFunction']);
  });

  test('THEN runs that fail, time out or are aborted alarm, and execution data stays out of the logs', () => {
    const alarms = resourcesOf(dr, 'aws_cloudwatch_metric_alarm').map(({ config }) => config);
    expect(alarms.map((alarm) => alarm.metric_name).sort()).toEqual(['ExecutionsAborted', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsTimedOut', 'PlanReadinessProblems', 'PlanReadinessProblems']);
    const [machine] = resourcesOf(dr, 'aws_sfn_state_machine').map(({ config }) => config);
    expect(machine.logging_configuration).toMatchObject({ include_execution_data: false, level: 'ERROR' });
  });

  test('THEN the environment\'s identifiers are published as SSM parameters in every Region', () => {
    const parameters = resourcesOf(dr, 'aws_ssm_parameter').map(({ config }) => [config.provider, config.name]);
    for (const region of regions) {
      expect(parameters).toEqual(expect.arrayContaining([
        [`aws.${region}`, '/keycloak-aurora-dr/prod/global-cluster-identifier'],
        [`aws.${region}`, '/keycloak-aurora-dr/prod/eu-west-1/cluster-arn'],
        [`aws.${region}`, '/keycloak-aurora-dr/prod/eu-central-1/cluster-arn'],
      ]));
    }
  });

  test('THEN every plan is evaluated every 30 minutes, and a plan that would fail, or an evaluation that stopped, alarms', () => {
    const rules = resourcesOf(dr, 'aws_cloudwatch_event_rule').filter(({ config }) => config.name === 'keycloak-prod-dr-readiness');
    expect(rules.map(({ config }) => [config.provider, config.schedule_expression]).sort()).toEqual(regions.map((region) => [`aws.${region}`, 'rate(30 minutes)']).sort());
    const alarm = resourcesOf(dr, 'aws_cloudwatch_metric_alarm').map(({ config }) => config).find((config) => config.metric_name === 'PlanReadinessProblems' && config.provider === 'aws.eu-central-1')!;
    expect(alarm).toMatchObject({ namespace: 'KeycloakAuroraDr/Readiness', dimensions: { StateMachine: 'keycloak-prod-dr' }, statistic: 'Maximum', threshold: 1, treat_missing_data: 'breaching', period: 3600 });
  });

  test('THEN each Region stores the plans that move the writer to it, valid by the run\'s own schema', () => {
    const plans = resourcesOf(dr, 'aws_ssm_parameter').map(({ config }) => config).filter((config) => config.name.includes('/dr-plans/'));
    expect(plans.map((config) => [config.provider, config.name]).sort()).toEqual(regions.flatMap((region) => [
      [`aws.${region}`, `/keycloak-aurora-dr/prod/dr-plans/failover-to-${region}`],
      [`aws.${region}`, `/keycloak-aurora-dr/prod/dr-plans/switchover-to-${region}`],
    ]).sort());
    for (const config of plans) expect(() => parsePlan(JSON.parse(config.value))).not.toThrow();
    const evaluate = resourcesOf(dr, 'aws_lambda_function').map(({ config }) => config).find((config) => config.function_name === 'keycloak-prod-dr-evaluate' && config.provider === 'aws.eu-central-1')!;
    expect(evaluate.environment.variables).toMatchObject({ DR_PLANS_PATH: '/keycloak-aurora-dr/prod/dr-plans', DR_MAX_LAG_SECONDS: '60', DR_STATE_MACHINE: 'keycloak-prod-dr' });
  });
});

describe('DrOrchestrator used on its own', () => {
  const bundle = join(mkdtempSync(join(tmpdir(), 'dr-construct-')), 'code.zip');
  writeFileSync(bundle, 'zip');
  const orchestrator = (props: Partial<ConstructorParameters<typeof DrOrchestrator>[2]> = {}) => {
    const stack = new TerraformStack(new App(), 'team-dr');
    const provider = new AwsProvider(stack, 'aws', { region: 'eu-central-1' });
    new DrOrchestrator(stack, 'dr', { provider, region: 'eu-central-1', name: 'payments', code: new TerraformAsset(stack, 'code', { path: bundle, type: AssetType.FILE }), ...props });
    return synthesize(stack);
  };

  test('WHEN custom functions and approval topics are allowed THEN only their roles may invoke or publish to them', () => {
    const json = orchestrator({ customFunctionArns: ['arn:aws:lambda:eu-central-1:123456789012:function:payments-*'], approvalTopicArns: ['arn:aws:sns:eu-central-1:123456789012:payments-oncall'] });
    const policy = (task: string) => resourcesOf(json, 'aws_iam_role_policy').find(({ name }) => name.startsWith(`dr_${task}-permissions`))!.config.policy as string;
    expect(policy('custom')).toContain('"Action" = ["lambda:InvokeFunction"], "Resource" = ["arn:aws:lambda:eu-central-1:123456789012:function:payments-*"]');
    expect(policy('approval')).toMatch(/"Action" = \["sns:Publish"\], "Resource" = \[aws_sns_topic\.dr_approvals_[A-Z0-9]+\.arn, "arn:aws:sns:eu-central-1:123456789012:payments-oncall"\]/);
    const plan = resourcesOf(json, 'aws_lambda_function').find(({ config }) => config.function_name === 'payments-dr-plan')!.config;
    expect(plan.environment.variables.DR_CUSTOM_FUNCTIONS).toContain('payments-*');
  });

  test('WHEN a stored plan is invalid THEN synth fails naming the plan and the field, before anything is made', () => {
    expect(() => orchestrator({ plans: { broken: { StatePayload: [{ layer: 1, resources: [{ resourceType: 'PlannedFailoverAurra', resourceName: 'x', parameters: {} }] }] } } }))
      .toThrow(/plan broken is invalid: StatePayload\[0\]\.resources\[0\]\.resourceType: "PlannedFailoverAurra" is not a resource type; did you mean PlannedFailoverAurora\?/);
    expect(() => orchestrator({ plans: { 'no spaces': { StatePayload: [] } } })).toThrow(/plan name "no spaces" may hold only letters/);
  });
});
