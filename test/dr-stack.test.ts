import { environments } from '../environments';
import { drStackName } from '../stacks';
import { resourcesOf, synthesizeApp } from './synth';

describe('DrStack and DrOrchestrator', () => {
  const stacks = synthesizeApp(environments.filter((env) => env.name === 'prod'));
  const dr = stacks[drStackName('prod')];
  const regions = ['eu-west-1', 'eu-central-1'];
  /** The actions a role policy allows, read from its jsonencode() expression. */
  const actionsOf = (name: string) => {
    const policy: string = resourcesOf(dr, 'aws_iam_role_policy').find((p) => p.name.startsWith(`dr-${regions[0]}_${name}-permissions`))!.config.policy;
    return [...new Set(policy.match(/"[a-z0-9]+:[A-Za-z]+"/g)!.map((action) => action.slice(1, -1)))].sort();
  };

  test('THEN it has a state machine in every Region of the environment, with its own provider, and depends on no other stack', () => {
    const machines = resourcesOf(dr, 'aws_sfn_state_machine').map(({ config }) => config);
    expect(machines.map((machine) => [machine.name, machine.provider]).sort()).toEqual(regions.map((region) => ['keycloak-prod-dr', `aws.${region}`]).sort());
    expect(JSON.stringify(dr)).not.toMatch(/cross-stack-reference-input/);
  });

  test('THEN each Region runs one function per task (eight), each with its own role', () => {
    const functions = resourcesOf(dr, 'aws_lambda_function').map(({ config }) => config);
    expect(functions.filter((fn) => fn.provider === 'aws.eu-central-1').map((fn) => [fn.function_name, fn.environment.variables.DR_TASK]).sort()).toEqual([
      ['keycloak-prod-dr-cache', 'cache'],
      ['keycloak-prod-dr-detach', 'detach'],
      ['keycloak-prod-dr-failover', 'failover'],
      ['keycloak-prod-dr-plan', 'plan'],
      ['keycloak-prod-dr-promote', 'promote'],
      ['keycloak-prod-dr-summary', 'summary'],
      ['keycloak-prod-dr-switchover', 'switchover'],
      ['keycloak-prod-dr-wait-dns', 'wait-dns'],
    ]);
    expect(new Set(functions.map((fn) => fn.role)).size).toBe(functions.length);
    expect(functions.every((fn) => fn.runtime === 'nodejs22.x' && fn.architectures[0] === 'arm64')).toBe(true);
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
    expect(actionsOf('state-machine')).toEqual(expect.arrayContaining(['lambda:InvokeFunction']));
    expect(actionsOf('state-machine').filter((action) => !action.startsWith('logs:'))).toEqual(['lambda:InvokeFunction']);
  });

  test('THEN runs that fail, time out or are aborted alarm, and execution data stays out of the logs', () => {
    const alarms = resourcesOf(dr, 'aws_cloudwatch_metric_alarm').map(({ config }) => config);
    expect(alarms.map((alarm) => alarm.metric_name).sort()).toEqual(['ExecutionsAborted', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsTimedOut']);
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
});
