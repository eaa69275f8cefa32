/** The environment an operator names, validated like synth validates it. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../stacks/package-root';
import { EnvironmentConfig, EnvironmentInput, EnvironmentValidationError, environments, liveDatabase, parseEnvironments } from '../environments';
import { didYouMean, writerRecordName, writerZoneName } from '../modules/core';
import { CliError, ExitCode, refuse } from './errors';

export interface OperatedEnvironment {
  readonly config: EnvironmentConfig;
  /** The global cluster that takes the writes: blue's, or once `blueGreen.live` is green, green's. */
  readonly globalClusterIdentifier: string;
  /** Its member cluster identifier per Region. */
  readonly clusterIdentifiers: Readonly<Record<string, string>>;
  readonly recordName: string;
  /** The zone's name, and its id when the environment names an existing zone. */
  readonly zone: { readonly name: string; readonly id?: string; readonly private: boolean };
}

/** Where `cdktf synth` writes the environments it built, for the CLI to find them in that project. */
export const SYNTHESISED_ENVIRONMENTS = join('cdktf.out', 'keycloak-aurora-dr', 'environments.json');

/** This checkout's own examples are compiled in; an installed package has none of its own. */
function isCheckout(): boolean {
  try {
    return existsSync(join(packageRoot(), 'environments', 'prod.ts'));
  } catch {
    return false;
  }
}

/**
 * The environments the CLI operates: the file `--environments` or KEYCLOAK_AURORA_DR_ENVIRONMENTS
 * names (JSON, or a CommonJS module exporting `environments`); else, in this checkout, its own
 * examples; else what `cdktf synth` wrote in the current folder. Says plainly when there are none.
 */
export function environmentInputs(env: Readonly<Record<string, string | undefined>>, file?: string, cwd = process.cwd()): readonly EnvironmentInput[] {
  const named = file ?? env.KEYCLOAK_AURORA_DR_ENVIRONMENTS;
  if (!named && isCheckout()) return environments;
  const path = named ? resolve(cwd, named) : join(cwd, SYNTHESISED_ENVIRONMENTS);
  if (named && !existsSync(path)) throw new CliError(`the environments file ${path} does not exist`, ExitCode.usage);
  if (existsSync(path)) {
    let loaded: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = path.endsWith('.json') ? JSON.parse(readFileSync(path, 'utf8')) : require(path);
    } catch (error) {
      throw new CliError(`cannot read the environments in ${path}: ${(error as Error).message}`, ExitCode.usage);
    }
    const list = Array.isArray(loaded) ? loaded : (loaded as { environments?: unknown }).environments;
    if (!Array.isArray(list)) throw new CliError(`${path} holds no list of environments (a JSON array, or a module exporting \`environments\`)`, ExitCode.usage);
    return list as EnvironmentInput[];
  }
  throw new CliError(`no environments to operate: name a file with --environments or KEYCLOAK_AURORA_DR_ENVIRONMENTS, or run cdktf synth here first (it writes ${SYNTHESISED_ENVIRONMENTS})`, ExitCode.usage);
}

export function loadEnvironment(name: string, inputs: readonly EnvironmentInput[] = environments): OperatedEnvironment {
  let configs: EnvironmentConfig[];
  try {
    configs = parseEnvironments(inputs);
  } catch (error) {
    if (error instanceof EnvironmentValidationError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
  const config = configs.find((candidate) => candidate.name === name);
  if (!config) {
    throw new CliError(`unknown environment ${JSON.stringify(name)}; environments: ${configs.map((c) => c.name).join(', ')}`, ExitCode.usage);
  }
  const { zone, domain } = config.writerDns;
  const live = liveDatabase(config);
  return {
    config,
    globalClusterIdentifier: live.globalClusterIdentifier,
    clusterIdentifiers: Object.fromEntries(config.regions.map((region) => [region, live.member(region)])),
    recordName: writerRecordName(config.globalClusterIdentifier, domain),
    zone:
      zone.type === 'existing'
        ? { name: zone.zoneName, id: zone.zoneId, private: false }
        : { name: writerZoneName(domain), private: zone.type === 'private' },
  };
}

/** Refuses a Region that holds no member of the environment's global cluster, suggesting the closest. */
export function requireMemberRegion(env: OperatedEnvironment, region: string): void {
  const { globalClusterIdentifier, regions } = env.config;
  if (!regions.includes(region)) {
    throw refuse(`${region} is not a Region of global cluster ${globalClusterIdentifier} (its Regions: ${regions.join(', ')})${didYouMean(region, regions)}`);
  }
}
