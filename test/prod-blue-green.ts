/**
 * The example environments with prod's `blueGreen` replaced: the configurations the blue/green tests
 * and the bench operate, as inputs, as prod loaded for the CLI, or as a file for `--environments`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatedEnvironment, loadEnvironment } from '../cli/environment';
import { EnvironmentInput, environments } from '../environments';

export type BlueGreenInput = NonNullable<EnvironmentInput['blueGreen']>;

export function environmentsWithProd(blueGreen: BlueGreenInput): EnvironmentInput[] {
  return environments.map((env) => (env.name === 'prod' ? { ...env, blueGreen } : env));
}

/** prod with `blueGreen`, as the CLI loads it. */
export function prodWith(blueGreen: BlueGreenInput): OperatedEnvironment {
  return loadEnvironment('prod', environmentsWithProd(blueGreen));
}

/** A JSON file of the environments with prod's `blueGreen`, in a folder of its own. */
export function prodEnvironmentsFile(blueGreen: BlueGreenInput): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-environments-')), 'environments.json');
  writeFileSync(file, JSON.stringify(environmentsWithProd(blueGreen)));
  return file;
}
