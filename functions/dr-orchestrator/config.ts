import type { ResourceType } from './plan';

/** Which task a function is, read once at cold start. */
export interface TaskConfig {
  /** `plan`, `summary`, or the resource type whose steps it runs. */
  readonly task: string;
  readonly region: string;
  /** For the plan function: the function that runs each resource type. */
  readonly functionArns: Readonly<Partial<Record<ResourceType, string>>>;
}

/** Reads the task's configuration; throws naming every missing or bad variable. */
export function loadTaskConfig(env: Record<string, string | undefined>): TaskConfig {
  const problems: string[] = [];
  if (!env.DR_TASK) problems.push('DR_TASK is not set');
  if (!env.AWS_REGION) problems.push('AWS_REGION is not set');
  let functionArns = {};
  try {
    functionArns = JSON.parse(env.DR_FUNCTION_ARNS ?? '{}');
  } catch {
    problems.push('DR_FUNCTION_ARNS is not JSON');
  }
  if (problems.length > 0) throw new Error(`DR orchestrator configuration: ${problems.join('; ')}`);
  return { task: env.DR_TASK!, region: env.AWS_REGION!, functionArns };
}
