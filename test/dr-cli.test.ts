import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsClients } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';

const ACCOUNT = '123456789012';
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
let folder: string;

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let now = 0;
  return run(argv, {
    aws: awsClients(),
    env: {},
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
    io: { out: (line) => out.push(line), err: (line) => err.push(line) },
  }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

const planFile = (plan: unknown) => {
  const file = join(folder, `plan-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(plan));
  return file;
};
const awsCalls = () => [...sfn.calls(), ...sts.calls(), ...lambda.calls()];

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-dr-'));
  sfn.reset();
  sts.reset();
  lambda.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`, UserId: 'AROA:alice' });
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe('dr plan', () => {
  test('writes the environment\'s own plan, naming its clusters through the DR stack\'s SSM parameters, and it validates', async () => {
    const { code, out } = await cli(['dr', 'plan', 'prod', '--to', 'eu-central-1', '--kind', 'failover']);
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out)).toEqual({
      StatePayload: [{
        layer: 1,
        resources: [{
          resourceType: 'AuroraGlobalFailover',
          resourceName: 'failover of keycloak-prod to eu-central-1',
          parameters: { GlobalClusterIdentifier: '!Ssm /keycloak-aurora-dr/prod/global-cluster-identifier', DBClusterIdentifier: '!Ssm /keycloak-aurora-dr/prod/eu-central-1/cluster-arn', AllowDataLoss: true },
        }],
      }],
    });
    await expect(cli(['dr', 'validate', planFile(JSON.parse(out))])).resolves.toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/1\s+failover of keycloak-prod to eu-central-1\s+AuroraGlobalFailover\s+1800 s/) });
  });

  test('refuses a Region outside the environment, with a suggestion', async () => {
    await expect(cli(['dr', 'plan', 'prod', '--to', 'eu-centrl-1'])).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/did you mean eu-central-1\?/) });
  });
});

describe('dr run', () => {
  const plan = { StatePayload: [{ layer: 1, resources: [{ resourceType: 'PlannedFailoverAurora', resourceName: 'switchover', parameters: { GlobalClusterIdentifier: 'keycloak-prod', DBClusterIdentifier: `arn:aws:rds:eu-central-1:${ACCOUNT}:cluster:keycloak-prod-eu-central-1` } }] }] };
  const summary = {
    startedAt: '2026-12-01T10:00:00.000Z', finishedAt: '2026-12-01T10:01:30.000Z', recoveryTimeSeconds: 90,
    layers: [{ layer: 1, startedAt: '2026-12-01T10:00:01.000Z', finishedAt: '2026-12-01T10:01:30.000Z', seconds: 89, resources: [{ name: 'switchover', type: 'AuroraGlobalSwitchover', layer: 1, startedAt: '2026-12-01T10:00:01.000Z', finishedAt: '2026-12-01T10:01:30.000Z', skipped: false }] }],
  };

  test('starts the plan in the named Region\'s state machine, follows it, and prints the timings', async () => {
    const executionArn = `arn:aws:states:eu-central-1:${ACCOUNT}:execution:keycloak-prod-dr:run-1`;
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    sfn.on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn, stateMachineArn: 'x', status: 'RUNNING', startDate: new Date() })
      .resolves({ executionArn, stateMachineArn: 'x', status: 'SUCCEEDED', startDate: new Date(), output: JSON.stringify(summary) });
    const started = { id: 5, type: 'TaskStateEntered' as const, timestamp: new Date(), stateEnteredEventDetails: { name: 'Start the resource', input: JSON.stringify({ layer: 1, resource: { name: 'switchover', givenType: 'PlannedFailoverAurora' } }) } };
    const done = { id: 9, type: 'PassStateExited' as const, timestamp: new Date(), stateExitedEventDetails: { name: 'Resource done', output: JSON.stringify({ ...summary.layers[0].resources[0], detail: 'writer arn:…eu-central-1' }) } };
    sfn.on(GetExecutionHistoryCommand).resolvesOnce({ events: [started] }).resolves({ events: [started, done] });
    const file = planFile(plan);
    const { code, out, err } = await cli(['dr', 'run', 'prod', file, '--region', 'eu-central-1']);
    expect(code).toBe(ExitCode.ok);
    expect(err.split('\n').filter((line) => line.startsWith('layer'))).toEqual([
      'layer 1: switchover (PlannedFailoverAurora) started',
      'layer 1: switchover done (writer arn:…eu-central-1)',
    ]);
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({ stateMachineArn: `arn:aws:states:eu-central-1:${ACCOUNT}:stateMachine:keycloak-prod-dr`, input: JSON.stringify(plan) });
    expect(out).toMatch(/1\s+switchover\s+2026-12-01T10:00:01.000Z\s+2026-12-01T10:01:30.000Z\s+done/);
    expect(out).toMatch(/recovery time 1m30s \(90 s\)/);
  });

  test('a failed run exits 6 with the layer, resource and cause', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:run', startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'arn:run', stateMachineArn: 'x', status: 'FAILED', startDate: new Date(), error: 'ResourceFailed', cause: 'layer 1, resource switchover (PlannedFailoverAurora): InvalidGlobalClusterStateFault: not in a valid state' });
    const { code, err } = await cli(['dr', 'run', 'prod', planFile(plan), '--region', 'eu-central-1']);
    expect(code).toBe(ExitCode.stopped);
    expect(err).toMatch(/the run failed: ResourceFailed: layer 1, resource switchover \(PlannedFailoverAurora\): InvalidGlobalClusterStateFault/);
  });

  test.each<[string, () => string[], RegExp]>([
    ['an invalid plan', () => ['dr', 'run', 'prod', planFile({ StatePayload: [{ layer: 1, resources: [{ ...plan.StatePayload[0].resources[0], resourceType: 'Teleport' }] }] }), '--region', 'eu-central-1'], /the plan is invalid, nothing was started: .*"Teleport" is not a resource type/],
    ['a Region without an orchestrator', () => ['dr', 'run', 'prod', planFile(plan), '--region', 'us-east-1'], /us-east-1 is not a Region of environment prod, so it has no DR orchestrator/],
    ['a plan that is not JSON', () => { const file = join(folder, 'broken.json'); writeFileSync(file, '{'); return ['dr', 'run', 'prod', file, '--region', 'eu-central-1']; }, /the plan is not JSON/],
  ])('refuses %s with exit 1 before any AWS call', async (_case, argv, message) => {
    const { code, err } = await cli(argv());
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(message);
    expect(awsCalls()).toEqual([]);
  });

  const answer = (body: unknown, functionError?: string) => ({ StatusCode: 200, ...(functionError && { FunctionError: functionError }), Payload: new TextEncoder().encode(JSON.stringify(body)) }) as never;
  const invoked = () => lambda.commandCalls(InvokeCommand).map((call) => ({ ...call.args[0].input, Payload: JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)) }));

  test('--dry-run evaluates the plan in the Region\'s own evaluate function and starts nothing', async () => {
    lambda.on(InvokeCommand).resolves(answer({ findings: [] }));
    const { code, err } = await cli(['dr', 'run', 'prod', planFile(plan), '--region', 'eu-central-1', '--dry-run']);
    expect(code).toBe(ExitCode.ok);
    expect(err).toMatch(/dry run: the plan is ready to run in eu-central-1; nothing was started/);
    expect(invoked()).toEqual([{ FunctionName: 'keycloak-prod-dr-evaluate', Payload: { action: 'evaluate', plan } }]);
    expect(sfn.calls()).toEqual([]);
  });

  test('--dry-run of a plan that would fail refuses, listing every reason', async () => {
    lambda.on(InvokeCommand).resolves(answer({ findings: [
      { resource: 'switchover', type: 'PlannedFailoverAurora', problem: 'cluster keycloak-prod-eu-central-1 has no DB instances: it would become a writer nobody can connect to' },
      { resource: 'switchover', type: 'PlannedFailoverAurora', problem: 'role dr-switchover-x is not allowed rds:SwitchoverGlobalCluster (implicitDeny)' },
    ] }));
    const { code, err } = await cli(['dr', 'run', 'prod', planFile(plan), '--region', 'eu-central-1', '--dry-run']);
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(/the plan would fail if run in eu-central-1 now \(nothing was started\)/);
    expect(err).toMatch(/- switchover \(PlannedFailoverAurora\): cluster keycloak-prod-eu-central-1 has no DB instances/);
    expect(err).toMatch(/- switchover \(PlannedFailoverAurora\): role dr-switchover-x is not allowed rds:SwitchoverGlobalCluster/);
    expect(sfn.calls()).toEqual([]);
  });

  test('--dry-run whose evaluation itself fails exits 5 with the function\'s error', async () => {
    lambda.on(InvokeCommand).resolves(answer({ errorType: 'AccessDeniedException', errorMessage: 'not authorized to perform: iam:SimulatePrincipalPolicy' }, 'Unhandled'));
    const { code, err } = await cli(['dr', 'run', 'prod', planFile(plan), '--region', 'eu-central-1', '--dry-run']);
    expect(code).toBe(ExitCode.aws);
    expect(err).toMatch(/the evaluation in eu-central-1 failed: AccessDeniedException: not authorized to perform: iam:SimulatePrincipalPolicy/);
  });
});
