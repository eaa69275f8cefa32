/**
 * The DR task entry point as Lambda runs it: configured by its environment, its clients made at cold
 * start, here answered by aws-sdk-client-mock on every client of the kind.
 */
import { mockClient } from 'aws-sdk-client-mock';

const ACCOUNT = '123456789012';
const CENTRAL = 'eu-central-1';
const WEST = 'eu-west-1';
const clusterArn = (region: string) => `arn:aws:rds:${region}:${ACCOUNT}:cluster:keycloak-prod-${region}`;

/**
 * The handler as a fresh cold start of `task`, with the AWS answers below. Each cold start loads its
 * own copy of the SDK, so its clients are mocked from inside the same module registry.
 */
function coldStart(task: string) {
  process.env.DR_TASK = task;
  process.env.AWS_REGION = CENTRAL;
  process.env.DR_FUNCTION_ARNS = JSON.stringify({ AuroraGlobalSwitchover: `arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:keycloak-prod-dr-switchover`, AuroraGlobalFailover: `arn:aws:lambda:${CENTRAL}:${ACCOUNT}:function:keycloak-prod-dr-failover` });
  process.env.DR_ROLE_ARNS = JSON.stringify({ AuroraGlobalSwitchover: `arn:aws:iam::${ACCOUNT}:role/dr-switchover-1`, AuroraGlobalFailover: `arn:aws:iam::${ACCOUNT}:role/dr-failover-1` });
  process.env.DR_PLANS_PATH = '/keycloak-aurora-dr/prod/dr-plans';
  process.env.DR_STATE_MACHINE = 'keycloak-prod-dr';
  let loaded!: { handler: typeof import('../functions/dr-orchestrator/handler').handler; mocks: ReturnType<typeof answers> };
  jest.isolateModules(() => {
    const mocks = answers();
    loaded = { handler: require('../functions/dr-orchestrator/handler').handler, mocks };
  });
  return loaded;
}

/** Aurora with the writer in eu-west-1 and a secondary in eu-central-1 that has no instances; two stored plans; IAM allowing everything. */
function answers() {
  const { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const { IAMClient, SimulatePrincipalPolicyCommand } = require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');
  const { DescribeDBClustersCommand, DescribeGlobalClustersCommand, RDSClient } = require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds');
  const { GetParameterCommand, GetParametersByPathCommand, SSMClient } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
  const rds = mockClient(RDSClient);
  const ssm = mockClient(SSMClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const iam = mockClient(IAMClient);
  ssm.on(GetParameterCommand, { Name: '/keycloak-aurora-dr/prod/global-cluster-identifier' }).resolves({ Parameter: { Name: '/keycloak-aurora-dr/prod/global-cluster-identifier', Value: 'keycloak-prod', Type: 'String' } });
  ssm.on(GetParametersByPathCommand).resolves({
    Parameters: [
      { Name: `/keycloak-aurora-dr/prod/dr-plans/switchover-to-${CENTRAL}`, Type: 'String', Value: JSON.stringify(plan('switchover')) },
      { Name: `/keycloak-aurora-dr/prod/dr-plans/failover-to-${CENTRAL}`, Type: 'String', Value: JSON.stringify(plan('failover')) },
    ],
  });
  rds.on(DescribeGlobalClustersCommand).resolves({
    GlobalClusters: [{ GlobalClusterIdentifier: 'keycloak-prod', Engine: 'aurora-postgresql', EngineVersion: '16.6', GlobalClusterMembers: [{ DBClusterArn: clusterArn(WEST), IsWriter: true }, { DBClusterArn: clusterArn(CENTRAL), IsWriter: false }] }],
  });
  rds.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: id }) => ({
    DBClusters: [{ DBClusterIdentifier: id, Status: 'available', EngineVersion: '16.6', DBClusterMembers: id.endsWith(CENTRAL) ? [] : [{ DBInstanceIdentifier: `${id}-1`, IsClusterWriter: true }] }],
  }));
  iam.on(SimulatePrincipalPolicyCommand).callsFake(({ ActionNames }) => ({ EvaluationResults: ActionNames.map((action: string) => ({ EvalActionName: action, EvalResourceName: '*', EvalDecision: 'allowed' })), IsTruncated: false }));
  cloudwatch.on(PutMetricDataCommand).resolves({});
  // No lag figures: the secondary has no instance to report them.
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Label: 'AuroraGlobalDBReplicationLag', Timestamps: [], Values: [], StatusCode: 'Complete' }] });
  return { ssm, cloudwatch, PutMetricDataCommand, GetParametersByPathCommand };
}

const plan = (kind: 'switchover' | 'failover') => ({
  StatePayload: [{ layer: 1, resources: [{
    resourceType: kind === 'switchover' ? 'AuroraGlobalSwitchover' : 'AuroraGlobalFailover',
    resourceName: `${kind} to ${CENTRAL}`,
    parameters: { GlobalClusterIdentifier: '!Ssm /keycloak-aurora-dr/prod/global-cluster-identifier', DBClusterIdentifier: clusterArn(CENTRAL), ...(kind === 'failover' && { AllowDataLoss: true }) },
  }] }],
});

describe('DR task handler', () => {
  test('the scheduled evaluation reads every stored plan, logs each problem and puts the counts the alarm watches', async () => {
    const { handler, mocks } = coldStart('evaluate');
    const logged: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const result = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as any) as { plans: Array<{ plan: string; findings: unknown[] }> };
    log.mockRestore();
    // The secondary in eu-central-1 has no instances, so no lag figures either: both plans would fail, and say why.
    expect(result.plans.map(({ plan: name, findings }) => [name, findings.length])).toEqual([[`switchover-to-${CENTRAL}`, 2], [`failover-to-${CENTRAL}`, 2]]);
    expect(logged.filter((line) => line.includes('plan not ready')).map((line) => JSON.parse(line).finding)).toEqual(expect.arrayContaining([
      `switchover to ${CENTRAL} (AuroraGlobalSwitchover): cluster keycloak-prod-${CENTRAL} has no DB instances: it would become a writer nobody can connect to`,
    ]));
    const [put] = mocks.cloudwatch.commandCalls(mocks.PutMetricDataCommand);
    expect(put.args[0].input.Namespace).toBe('KeycloakAuroraDr/Readiness');
    expect(put.args[0].input.MetricData![0]).toMatchObject({ MetricName: 'PlanReadinessProblems', Dimensions: [{ Name: 'StateMachine', Value: 'keycloak-prod-dr' }], Value: 4 });
    expect(mocks.ssm.commandCalls(mocks.GetParametersByPathCommand)[0].args[0].input).toMatchObject({ Path: '/keycloak-aurora-dr/prod/dr-plans', Recursive: true });
  });

  test('the evaluate function answers `dr run --dry-run` for one plan', async () => {
    const { handler } = coldStart('evaluate');
    const { findings } = await handler({ action: 'evaluate', plan: plan('switchover') }) as { findings: Array<{ problem: string }> };
    expect(findings.map((finding) => finding.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/has no DB instances/)]));
  });

  test('a function refuses the actions and resource types of another task', async () => {
    const { handler } = coldStart('switchover');
    await expect(handler({ action: 'validate', plan: {} })).rejects.toThrow(/the switchover function does not do "validate"/);
    await expect(handler({ action: 'start', layer: 1, resource: { type: 'AuroraGlobalFailover' } })).rejects.toThrow(/the switchover function does not run AuroraGlobalFailover resources/);
    await expect(handler({ 'detail-type': 'Scheduled Event' })).rejects.toThrow(/the switchover function does not do "schedule"/);
  });
});
