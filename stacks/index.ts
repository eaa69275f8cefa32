import { App } from 'cdktf';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { EnvironmentValidationError, parseEnvironments } from '../environments/parse';
import type { EnvironmentInput } from '../environments/schema';
import type { EnvironmentConfig } from '../environments/schema';
import { DatabaseStack } from './database-stack';
import { bundleFunction } from './function-bundle';
import { DrStack } from './dr-stack';
import { GreenStack } from './green-stack';
import { SiteAccessStack } from './site-access-stack';

export * from './database-stack';
export * from './dr-stack';
export * from './function-bundle';
export * from './green-stack';
export * from './site-access-stack';

/** Every stack of every environment; the configs must already be validated. */
export function addEnvironmentStacks(app: Construct, environments: readonly EnvironmentConfig[]): void {
  const writerDnsBundle = bundleFunction('writer-dns');
  const drBundle = environments.some((env) => env.drOrchestrator.enabled) ? bundleFunction('dr-orchestrator') : undefined;
  for (const env of environments) {
    const database = new DatabaseStack(app, env, { writerDnsBundle });
    const green = env.blueGreen.green ? new GreenStack(app, env, database) : undefined;
    // Validation makes a live green a global one, so it has endpoints in every Region.
    const live = env.blueGreen.live === 'green' && green?.endpoints ? { endpoints: green.endpoints, stack: green } : undefined;
    for (const site of env.sites) new SiteAccessStack(app, env, site, database, live);
    if (drBundle && env.drOrchestrator.enabled) new DrStack(app, env, { bundle: drBundle });
  }
}

/**
 * Validates every environment, then synthesises all their stacks into `outdir`.
 * Validation comes first: when any environment is invalid, nothing is built or written.
 */
export function synthesizeEnvironments(inputs: readonly EnvironmentInput[], outdir?: string): void {
  const configs = parseEnvironments(inputs);
  const app = new App({ outdir });
  addEnvironmentStacks(app, configs);
  app.synth();
  // The operations CLI, run in this project, operates the environments synth built from this file.
  mkdirSync(join(app.outdir, 'keycloak-aurora-dr'), { recursive: true });
  writeFileSync(join(app.outdir, 'keycloak-aurora-dr', 'environments.json'), `${JSON.stringify(inputs, null, 2)}\n`);
}

/**
 * What a CDKTF app's main file does: `synthesizeEnvironments`, and on an invalid environment its
 * message (every field and rule) on stderr and exit code 1 instead of a stack trace.
 */
export function synthesizeOrReport(inputs: readonly EnvironmentInput[], outdir?: string): void {
  try {
    synthesizeEnvironments(inputs, outdir);
  } catch (error) {
    if (!(error instanceof EnvironmentValidationError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}
