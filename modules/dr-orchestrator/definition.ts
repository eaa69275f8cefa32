/**
 * The Amazon States Language definition of a disaster-recovery run: validate the plan, then its
 * layers one after another, the resources of a layer in parallel, each started, then checked until
 * done or past its deadline. Nothing waits unbounded and every failure ends the run, named.
 */

/** Names of the task states, which tests override with local handlers. */
export const TASK_STATES = {
  validate: 'Validate the plan',
  start: 'Start the resource',
  check: 'Check the resource',
  ask: 'Ask for approval',
  outcome: 'Record the approval',
  record: 'Record the layer',
  summarize: 'Summarize the run',
} as const;

export interface DefinitionProps {
  /** The function that validates the plan, resolves references and says which function runs each resource. */
  readonly planFunctionArn: string;
  /** The function that records each finished layer and writes the summary. */
  readonly summaryFunctionArn: string;
  /** Longest a whole run may take, in seconds. @default 172800 (two days) */
  readonly timeoutSeconds?: number;
}

/** Lambda's own transient errors are retried; everything else fails the resource at once. */
const LAMBDA_RETRY = [{
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
  IntervalSeconds: 2,
  MaxAttempts: 4,
  BackoffRate: 2,
}];

const invoke = (functionArn: string | { path: string }, payload: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: {
    ...(typeof functionArn === 'string' ? { FunctionName: functionArn } : { 'FunctionName.$': functionArn.path }),
    Payload: payload,
  },
  ResultSelector: { 'value.$': '$.Payload' },
  Retry: LAMBDA_RETRY,
});

/**
 * One resource: start, then check every pollSeconds until done; past its deadline or on any error,
 * fail naming it. A manual approval waits for its task token, bounded by the resource's timeout, and
 * the approval is then recorded.
 */
function resourceProcessor() {
  const progress = { 'layer.$': '$.layer', 'resource.$': '$.resource' };
  const tooLong = { ErrorEquals: ['States.Timeout'], ResultPath: '$.caught', Next: 'Waited too long' };
  const failed = { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'Resource failed' };
  return {
    ProcessorConfig: { Mode: 'INLINE' },
    StartAt: TASK_STATES.start,
    States: {
      [TASK_STATES.start]: {
        ...invoke({ path: '$.resource.functionArn' }, { action: 'start', ...progress }),
        ResultPath: '$.last',
        Catch: [failed],
        Next: 'Kind of step?',
      },
      'Kind of step?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.last.value.done', BooleanEquals: true, Next: 'Resource done' },
          { Variable: '$.resource.type', StringEquals: 'ManualApproval', Next: 'Note the approval timeout' },
        ],
        Default: 'Done yet?',
      },
      // TimeoutSecondsPath is read from the state's input by Step Functions and from the task's input
      // (after Parameters) by some interpreters: the timeout is put at $.Payload.timeoutSeconds in both.
      'Note the approval timeout': { Type: 'Pass', Parameters: { 'timeoutSeconds.$': '$.resource.timeoutSeconds' }, ResultPath: '$.Payload', Next: TASK_STATES.ask },
      [TASK_STATES.ask]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          'FunctionName.$': '$.resource.functionArn',
          Payload: { action: 'ask', ...progress, 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Id', 'timeoutSeconds.$': '$.resource.timeoutSeconds' },
        },
        TimeoutSecondsPath: '$.Payload.timeoutSeconds',
        ResultPath: '$.outcome',
        Retry: LAMBDA_RETRY,
        Catch: [tooLong, failed],
        Next: TASK_STATES.outcome,
      },
      [TASK_STATES.outcome]: {
        ...invoke({ path: '$.resource.functionArn' }, { action: 'check', ...progress, 'progress.$': '$.last.value', 'outcome.$': '$.outcome' }),
        ResultPath: '$.last',
        Catch: [failed],
        Next: 'Done yet?',
      },
      'Done yet?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.last.value.done', BooleanEquals: true, Next: 'Resource done' },
          { Variable: '$.last.value.timedOut', BooleanEquals: true, Next: 'Resource timed out' },
        ],
        Default: 'Wait before checking',
      },
      'Wait before checking': { Type: 'Wait', SecondsPath: '$.resource.pollSeconds', Next: TASK_STATES.check },
      [TASK_STATES.check]: {
        ...invoke({ path: '$.resource.functionArn' }, { action: 'check', ...progress, 'progress.$': '$.last.value' }),
        ResultPath: '$.last',
        Catch: [failed],
        Next: 'Done yet?',
      },
      'Resource done': { Type: 'Pass', OutputPath: '$.last.value', End: true },
      'Resource timed out': { Type: 'Fail', Error: 'ResourceTimedOut', CausePath: '$.last.value.cause' },
      'Waited too long': {
        Type: 'Pass',
        Parameters: { 'cause.$': "States.Format('layer {}, resource {} ({}): not done within {} s', $.layer, $.resource.name, $.resource.givenType, $.resource.timeoutSeconds)" },
        Next: 'Resource timed out for good',
      },
      'Resource timed out for good': { Type: 'Fail', Error: 'ResourceTimedOut', CausePath: '$.cause' },
      'Resource failed': {
        Type: 'Pass',
        Parameters: {
          'cause.$': "States.Format('layer {}, resource {} ({}): {}: {}', $.layer, $.resource.name, $.resource.givenType, $.caught.Error, $.caught.Cause)",
        },
        Next: 'Resource failed for good',
      },
      'Resource failed for good': { Type: 'Fail', Error: 'ResourceFailed', CausePath: '$.cause' },
    },
  };
}

/**
 * Layers are walked by an explicit loop, not a Map with MaxConcurrency 1: the next layer is picked
 * only after the previous one's Map succeeded, so no interpreter can start it after a failure.
 */
export function orchestratorDefinition(props: DefinitionProps): Record<string, unknown> {
  const runFailed = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Run failed' };
  return {
    Comment: 'keycloak-aurora-dr: fail over or back every database of a plan, layer by layer',
    TimeoutSeconds: props.timeoutSeconds ?? 172_800,
    StartAt: TASK_STATES.validate,
    States: {
      [TASK_STATES.validate]: {
        ...invoke(props.planFunctionArn, { action: 'validate', 'plan.$': '$', 'startedAt.$': '$$.Execution.StartTime' }),
        ResultPath: '$.run',
        Catch: [runFailed],
        Next: 'First layer',
      },
      'First layer': {
        Type: 'Pass',
        Parameters: { index: 0, 'count.$': 'States.ArrayLength($.run.value.layers)', done: [] },
        ResultPath: '$.loop',
        Next: 'Pick the layer',
      },
      'Pick the layer': {
        Type: 'Pass',
        Parameters: { 'layer.$': 'States.ArrayGetItem($.run.value.layers, $.loop.index)' },
        ResultPath: '$.current',
        Next: 'Resources of the layer',
      },
      'Resources of the layer': {
        Type: 'Map',
        ItemsPath: '$.current.layer.resources',
        ItemSelector: { 'layer.$': '$.current.layer.layer', 'resource.$': '$$.Map.Item.Value' },
        MaxConcurrency: 0,
        ItemProcessor: resourceProcessor(),
        ResultPath: '$.current.result',
        Catch: [runFailed],
        Next: TASK_STATES.record,
      },
      [TASK_STATES.record]: {
        ...invoke(props.summaryFunctionArn, { action: 'record', 'loop.$': '$.loop', 'layer.$': '$.current.result' }),
        ResultPath: '$.loop',
        ResultSelector: { 'index.$': '$.Payload.index', 'count.$': '$.Payload.count', 'done.$': '$.Payload.done' },
        Catch: [runFailed],
        Next: 'More layers?',
      },
      'More layers?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.loop.index', NumericLessThanPath: '$.loop.count', Next: 'Pick the layer' }],
        Default: TASK_STATES.summarize,
      },
      [TASK_STATES.summarize]: {
        ...invoke(props.summaryFunctionArn, { action: 'summarize', 'startedAt.$': '$$.Execution.StartTime', 'layers.$': '$.loop.done' }),
        ResultPath: '$.summary',
        OutputPath: '$.summary.value',
        End: true,
      },
      'Run failed': { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    },
  };
}
