import { dev } from './dev';
import { prod } from './prod';
import { staging } from './staging';
import type { EnvironmentInput } from './schema';

export * from './parse';
export * from './schema';

/** Every example environment `cdktf synth` builds. */
export const environments: readonly EnvironmentInput[] = [dev, staging, prod];
