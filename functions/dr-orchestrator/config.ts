import type { ResourceType } from './plan';

/** Which task a function is, and what it may reach, read once at cold start. */
export interface TaskConfig {
  /** `plan`, `summary`, `evaluate`, or the task that runs a resource type. */
  readonly task: string;
  readonly region: string;
  /** For the plan and evaluate functions: the function that runs each resource type. */
  readonly functionArns: Readonly<Partial<Record<ResourceType, string>>>;
  /** For the evaluate function: the role of each of those functions. */
  readonly roleArns: Readonly<Partial<Record<ResourceType, string>>>;
  /** Where a ManualApproval without a TopicArn asks, and the other topics it may ask on. */
  readonly approvalTopics: { readonly default?: string; readonly allowed: readonly string[] };
  /** The functions a CustomLambda may invoke (ARNs, a trailing `*` matching any rest). */
  readonly customFunctions: readonly string[];
  /** For the evaluate function: the SSM path its plans are stored under, the metric namespace, the state machine's name and the lag bound. */
  readonly readiness: { readonly plansPath: string; readonly namespace: string; readonly stateMachine: string; readonly maxLagSeconds: number };
}

/** Reads the task's configuration; throws naming every missing or bad variable. */
export function loadTaskConfig(env: Record<string, string | undefined>): TaskConfig {
  const problems: string[] = [];
  if (!env.DR_TASK) problems.push('DR_TASK is not set');
  if (!env.AWS_REGION) problems.push('AWS_REGION is not set');
  const json = <T>(name: string, fallback: T): T => {
    try {
      return env[name] ? (JSON.parse(env[name]!) as T) : fallback;
    } catch {
      problems.push(`${name} is not JSON`);
      return fallback;
    }
  };
  const maxLagSeconds = Number(env.DR_MAX_LAG_SECONDS ?? 60);
  if (!Number.isFinite(maxLagSeconds) || maxLagSeconds <= 0) problems.push('DR_MAX_LAG_SECONDS is not a positive number');
  const config: TaskConfig = {
    task: env.DR_TASK ?? '',
    region: env.AWS_REGION ?? '',
    functionArns: json('DR_FUNCTION_ARNS', {}),
    roleArns: json('DR_ROLE_ARNS', {}),
    approvalTopics: { default: env.DR_APPROVAL_TOPIC || undefined, allowed: json<string[]>('DR_APPROVAL_TOPICS', []) },
    customFunctions: json<string[]>('DR_CUSTOM_FUNCTIONS', []),
    readiness: {
      plansPath: env.DR_PLANS_PATH ?? '',
      namespace: env.DR_READINESS_NAMESPACE ?? 'KeycloakAuroraDr/Readiness',
      stateMachine: env.DR_STATE_MACHINE ?? '',
      maxLagSeconds,
    },
  };
  if (problems.length > 0) throw new Error(`DR orchestrator configuration: ${problems.join('; ')}`);
  return config;
}
