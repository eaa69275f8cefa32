/** `dr plan`, `dr validate` and `dr run`: a DR plan written, checked and run from the Region you name. */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { type Finding, formatFinding } from '../../functions/dr-orchestrator/finding';
import { PlanError, ownPlan, parsePlan } from '../../functions/dr-orchestrator/plan';
import type { Progress, RunSummary } from '../../functions/dr-orchestrator/steps';
import { TASK_STATES } from '../../modules/dr-orchestrator/definition';
import { drOrchestratorNames, partitionOf } from '../../modules/core';
import { didYouMean } from '../../modules/core/suggest';
import { callAws } from '../aws';
import { OperatedEnvironment, requireMemberRegion } from '../environment';
import { CliError, ExitCode, refuse } from '../errors';
import type { Deps } from '../observe';
import { Io, formatDuration, formatTable } from '../output';

/** This environment's own plan: move its global cluster's writer to `to`, naming it through the SSM parameters the DR stack publishes. */
export function environmentPlan(env: OperatedEnvironment, to: string, kind: 'switchover' | 'failover'): unknown {
  requireMemberRegion(env, to);
  return ownPlan({ ...env.config, globalClusterIdentifier: env.globalClusterIdentifier }, to, kind);
}

/** Checks a plan with the schema a run checks it with; refuses listing every problem. */
export function validatePlanFile(text: string, io: Io): ReturnType<typeof parsePlan> {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw refuse(`the plan is not JSON: ${(error as Error).message}`);
  }
  try {
    const plan = parsePlan(payload);
    for (const line of formatTable([['LAYER', 'RESOURCE', 'TYPE', 'TIMEOUT'], ...plan.layers.flatMap((layer) => layer.resources.map((r) => [String(layer.layer), r.name, r.type === r.givenType ? r.type : `${r.givenType} (${r.type})`, `${r.timeoutSeconds} s`]))])) io.out(line);
    return plan;
  } catch (error) {
    if (error instanceof PlanError) throw refuse(`the plan is invalid, nothing was started: ${error.problems.join('; ')}`);
    throw error;
  }
}

/**
 * Starts the plan in `region`'s state machine and follows it to the end. The plan is validated here
 * first, so a bad plan never starts; the run validates it again before its first action.
 */
export async function runPlan(env: OperatedEnvironment, text: string, deps: Deps, io: Io, options: { region: string; dryRun: boolean; pollMs: number; timeoutMs: number; json: boolean }): Promise<RunSummary | undefined> {
  if (!env.config.regions.includes(options.region)) {
    throw refuse(`${options.region} is not a Region of environment ${env.config.name}, so it has no DR orchestrator (its Regions: ${env.config.regions.join(', ')})${didYouMean(options.region, env.config.regions)}`);
  }
  validatePlanFile(text, io);
  const names = drOrchestratorNames(env.config.globalClusterIdentifier);
  if (options.dryRun) {
    await dryRun(names.functions.find((fn) => fn.task === 'evaluate')!.name, text, deps, io, options);
    return undefined;
  }
  const { Account } = await callAws('GetCallerIdentity', () => deps.aws.sts(options.region).send(new GetCallerIdentityCommand({})), deps.clock);
  const stateMachineArn = `arn:${partitionOf(options.region)}:states:${options.region}:${Account}:stateMachine:${names.stateMachine.name}`;
  const sfn = deps.aws.sfn(options.region);
  const { executionArn } = await callAws('StartExecution', () => sfn.send(new StartExecutionCommand({ stateMachineArn, input: text })), deps.clock);
  io.err(`started ${executionArn}`);
  const started = deps.clock.now();
  const progress = followProgress(sfn, executionArn!, deps, io);
  for (;;) {
    await progress.next();
    const execution = await callAws('DescribeExecution', () => sfn.send(new DescribeExecutionCommand({ executionArn })), deps.clock);
    if (execution.status === 'SUCCEEDED') {
      const summary = JSON.parse(execution.output ?? '{}') as RunSummary;
      if (options.json) io.out(JSON.stringify(summary, null, 2));
      else {
        for (const line of formatTable([['LAYER', 'RESOURCE', 'STARTED', 'FINISHED', 'RESULT'], ...summary.layers.flatMap((layer) => layer.resources.map((r) => [String(layer.layer), r.name, r.startedAt, r.finishedAt ?? '', r.skipped ? 'already done' : 'done']))])) io.out(line);
        io.out(`recovery time ${formatDuration(summary.recoveryTimeSeconds * 1000)} (${summary.recoveryTimeSeconds} s)`);
      }
      return summary;
    }
    if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') {
      throw new CliError(`the run ${execution.status === 'TIMED_OUT' ? 'timed out' : execution.status?.toLowerCase()}: ${execution.error ?? ''}: ${execution.cause ?? ''}`, execution.status === 'TIMED_OUT' ? ExitCode.timeout : ExitCode.stopped);
    }
    if (deps.clock.now() - started > options.timeoutMs) {
      throw new CliError(`the run was still going after ${formatDuration(options.timeoutMs)}; it goes on in AWS: ${executionArn}`, ExitCode.timeout);
    }
    await deps.clock.sleep(options.pollMs);
  }
}

/**
 * Evaluates the plan in the Region's own evaluate function, with the roles a run would use, changing
 * nothing; refuses when the plan would fail, listing why.
 */
async function dryRun(functionName: string, text: string, deps: Deps, io: Io, options: { region: string; json: boolean }): Promise<void> {
  const answer = await callAws('Invoke', () => deps.aws.lambda(options.region).send(new InvokeCommand({
    FunctionName: functionName,
    Payload: new TextEncoder().encode(JSON.stringify({ action: 'evaluate', plan: JSON.parse(text) })),
  })), deps.clock);
  const body = JSON.parse(new TextDecoder().decode(answer.Payload ?? new Uint8Array())) as { findings?: Finding[]; errorType?: string; errorMessage?: string };
  if (answer.FunctionError || !body.findings) throw new CliError(`the evaluation in ${options.region} failed: ${body.errorType ?? answer.FunctionError}: ${body.errorMessage ?? ''}`, ExitCode.aws);
  if (options.json) io.out(JSON.stringify({ region: options.region, ready: body.findings.length === 0, findings: body.findings }, null, 2));
  if (body.findings.length > 0) {
    throw refuse(`dry run: the plan would fail if run in ${options.region} now (nothing was started):\n${body.findings.map((finding) => `  - ${formatFinding(finding)}`).join('\n')}`);
  }
  io.err(`dry run: the plan is ready to run in ${options.region}; nothing was started`);
}

/**
 * Progress per layer and resource, from the execution's history: a line when a resource starts and
 * when it is done (each event once, however often it is read).
 */
function followProgress(sfn: SFNClient, executionArn: string, deps: Deps, io: Io) {
  let nextToken: string | undefined;
  let lastId = 0;
  const describe = (event: HistoryEvent): string | undefined => {
    const entered = event.stateEnteredEventDetails;
    if (entered?.name === TASK_STATES.start && entered.input) {
      const { layer, resource } = JSON.parse(entered.input) as { layer: number; resource: { name: string; givenType: string } };
      return `layer ${layer}: ${resource.name} (${resource.givenType}) started`;
    }
    const exited = event.stateExitedEventDetails;
    if (exited?.name === 'Resource done' && exited.output) {
      const done = JSON.parse(exited.output) as Progress;
      return `layer ${done.layer}: ${done.name} ${done.skipped ? 'was already done' : 'done'} (${done.detail})`;
    }
    return undefined;
  };
  return {
    async next(): Promise<void> {
      for (;;) {
        const page = await callAws('GetExecutionHistory', () => sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: true, nextToken })), deps.clock);
        for (const event of page.events ?? []) {
          if ((event.id ?? 0) <= lastId) continue;
          lastId = event.id ?? lastId;
          const line = describe(event);
          if (line) io.err(line);
        }
        // The last full page's token is kept, so a later look reads from there, skipping what was shown.
        if (!page.nextToken) return;
        nextToken = page.nextToken;
      }
    },
  };
}
