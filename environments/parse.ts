/**
 * Validation of every environment before any construct exists: the schema per environment, then
 * what environments must not share. All problems of all environments come back in one error.
 */
import { z } from 'zod';
import { cloudWorkspaceName, didYouMean, s3StateKey } from '../modules/core';
import { formatIssuePath, plainErrorMap } from '../modules/core/zod-messages';

const formatPath = (path: readonly PropertyKey[]) => formatIssuePath(path, '(environment)');
import { EnvironmentConfig, EnvironmentInput, environmentSchema, stackNamesOf } from './schema';

/** The problems of one environment, each `field: rule`. */
export interface EnvironmentProblems {
  readonly environment: string;
  readonly problems: readonly string[];
}

/** Thrown when environments break the rules; the message lists every problem of every one. */
export class EnvironmentValidationError extends Error {
  constructor(readonly invalid: readonly EnvironmentProblems[]) {
    super(
      invalid.length === 1
        ? `environment ${invalid[0].environment} is invalid:\n${list(invalid[0].problems, '  ')}`
        : `${invalid.length} environments are invalid:\n${invalid.map(({ environment, problems }) => `  ${environment}:\n${list(problems, '    ')}`).join('\n')}`,
    );
    this.name = 'EnvironmentValidationError';
  }

  /** The environment (or environments) named in the error. */
  get environment(): string {
    return this.invalid.map((entry) => entry.environment).join(', ');
  }

  /** Every problem; prefixed with its environment when there are several. */
  get problems(): string[] {
    return this.invalid.length === 1 ? [...this.invalid[0].problems] : this.invalid.flatMap(({ environment, problems }) => problems.map((problem) => `${environment}: ${problem}`));
  }
}

const list = (problems: readonly string[], indent: string) => problems.map((problem) => `${indent}- ${problem}`).join('\n');


/** Validates one environment, throwing an EnvironmentValidationError that names each field and rule. */
export function parseEnvironment(input: EnvironmentInput): EnvironmentConfig {
  const result = check(input);
  if ('config' in result) return result.config;
  throw new EnvironmentValidationError([result]);
}

function check(input: EnvironmentInput): { config: EnvironmentConfig } | EnvironmentProblems {
  const result = environmentSchema.safeParse(input, { error: plainErrorMap });
  if (result.success) return { config: result.data };
  const name = (input as { name?: unknown }).name;
  return {
    environment: typeof name === 'string' && name ? name : '(unnamed)',
    problems: result.error.issues.flatMap((issue) => describe(issue, input)),
  };
}

function describe(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code !== 'unrecognized_keys') return [`${formatPath(issue.path)}: ${issue.message}`];
  const known = knownKeys(environmentSchema, issue.path, input);
  return issue.keys.map((key) => `${formatPath([...issue.path, key])}: is not a field here${didYouMean(key, known) || (known.length ? ` (fields: ${known.join(', ')})` : '')}`);
}

/** The field names the schema allows at `path` of `input`, for "did you mean". */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let current: z.ZodType | undefined = schema;
  let value: unknown = input;
  for (const key of [...path, undefined]) {
    current = unwrap(current, value);
    if (key === undefined) break;
    value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
    if (current instanceof z.ZodObject) current = current.shape[key as string] as z.ZodType | undefined;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** Through defaults, optionals and unions to the object schema that `value` is checked against. */
function unwrap(schema: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodDiscriminatedUnion) {
      const discriminator = current.def.discriminator;
      const tag = (value as Record<string, unknown> | undefined)?.[discriminator];
      current = (current.options as z.ZodType[]).find((option) => option instanceof z.ZodObject && (option.shape[discriminator] as z.ZodLiteral).value === tag);
    } else return current;
  }
}

/**
 * Validates every environment, then what they must not share: a stack name (two environments'
 * derived names can meet: `kc` with site `prod-aa` and `kc-prod` with site `aa`), a state key in one
 * bucket, a workspace in one organization, a name or a global cluster identifier. Nothing is built
 * before this returns, and every problem of every environment is reported at once.
 */
export function parseEnvironments(inputs: readonly EnvironmentInput[]): EnvironmentConfig[] {
  const results = inputs.map(check);
  const invalid = new Map<string, string[]>();
  results.forEach((result) => {
    if (!('config' in result)) invalid.set(result.environment, [...(invalid.get(result.environment) ?? []), ...result.problems]);
  });
  const configs = results.flatMap((result) => ('config' in result ? [result.config] : []));
  for (const { environment, problem } of sharedNames(configs)) invalid.set(environment, [...(invalid.get(environment) ?? []), problem]);
  if (invalid.size > 0) throw new EnvironmentValidationError([...invalid].map(([environment, problems]) => ({ environment, problems })));
  return configs;
}

function sharedNames(configs: readonly EnvironmentConfig[]): Array<{ environment: string; problem: string }> {
  const owners = new Map<string, { index: number; environment: string; field: string }>();
  const problems: Array<{ environment: string; problem: string }> = [];
  /** Records that environment `index` derives `key`; a second owner gets `message(first owner)`. */
  const claim = (key: string, index: number, field: string, message: (owner: { environment: string; field: string }) => string) => {
    const owner = owners.get(key);
    if (!owner) owners.set(key, { index, environment: configs[index].name, field });
    else problems.push({ environment: configs[index].name, problem: `${field}: ${message(owner)}` });
  };
  configs.forEach((env, index) => {
    const before = problems.length;
    claim(`name:${env.name}`, index, 'name', () => `${env.name} is the name of another environment too; their stacks would collide`);
    claim(`cluster:${env.globalClusterIdentifier}`, index, 'globalClusterIdentifier', (owner) =>
      `${env.globalClusterIdentifier} is also used by environment ${owner.environment}; each environment needs its own global cluster`);
    // Same name: every stack collides, and the line above already says why.
    if (problems.length > before && owners.get(`name:${env.name}`)?.index !== index) return;
    const stacks = stackNamesOf(env);
    stacks.forEach((stack, position) => {
      const field = position === 0 ? 'name' : position <= env.sites.length ? `sites[${position - 1}].name` : stack.endsWith('-dr') && env.drOrchestrator.enabled && position === stacks.length - 1 ? 'drOrchestrator.enabled' : 'blueGreen.green';
      const where = (owner: { environment: string; field: string }) => `environment ${owner.environment} (from its ${owner.field})`;
      claim(`stack:${stack}`, index, field, (owner) => `makes stack ${stack}, which ${where(owner)} makes too; their state and resources would collide: rename one`);
      const backend = env.stateBackend;
      if (backend.type === 's3') {
        const key = s3StateKey(backend.keyPrefix, stack);
        claim(`s3:${backend.bucket}/${key}`, index, 'stateBackend.keyPrefix', (owner) => `state key s3://${backend.bucket}/${key} is also used by ${where(owner)}`);
      }
      if (backend.type === 'cloud') {
        const workspace = cloudWorkspaceName(backend.workspacePrefix, stack);
        claim(`cloud:${backend.hostname}/${backend.organization}/${workspace}`, index, 'stateBackend.workspacePrefix', (owner) =>
          `HCP Terraform workspace ${backend.organization}/${workspace} is also used by ${where(owner)}`);
      }
    });
  });
  return problems;
}
