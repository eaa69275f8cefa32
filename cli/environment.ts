/** The environment an operator names, validated like synth validates it. */
import { EnvironmentConfig, EnvironmentValidationError, environments, parseEnvironments } from '../environments';
import { didYouMean, regionalClusterIdentifier, writerRecordName, writerZoneName } from '../modules/core';
import { CliError, ExitCode, refuse } from './errors';

export interface OperatedEnvironment {
  readonly config: EnvironmentConfig;
  /** Member cluster identifier per Region. */
  readonly clusterIdentifiers: Readonly<Record<string, string>>;
  readonly recordName: string;
  /** The zone's name, and its id when the environment names an existing zone. */
  readonly zone: { readonly name: string; readonly id?: string; readonly private: boolean };
}

export function loadEnvironment(name: string, inputs = environments): OperatedEnvironment {
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
  return {
    config,
    clusterIdentifiers: Object.fromEntries(config.regions.map((region) => [region, regionalClusterIdentifier(config.globalClusterIdentifier, region)])),
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
