/**
 * AWS clients, one per Region, made on first use; tests pass their own factory. The SDK is loaded on
 * first use too: the blue/green steps never touch AWS and should not pay for loading it.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { STSClient } from '@aws-sdk/client-sts';
import { CliError, ExitCode } from './errors';

export interface AwsClients {
  rds(region: string): RDSClient;
  ec2(region: string): EC2Client;
  sts(region: string): STSClient;
  route53(): Route53Client;
  sfn(region: string): SFNClient;
  lambda(region: string): LambdaClient;
}

/** The SDK's adaptive retry already spaces throttled calls; the CLI adds its own attempts on top. */
const SDK_OPTIONS = { maxAttempts: 5, retryMode: 'adaptive' } as const;

export function awsClients(): AwsClients {
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    rds: (region) => once(`rds:${region}`, () => new (require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds')).RDSClient({ region, ...SDK_OPTIONS })),
    ec2: (region) => once(`ec2:${region}`, () => new (require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2')).EC2Client({ region, ...SDK_OPTIONS })),
    sts: (region) => once(`sts:${region}`, () => new (require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts')).STSClient({ region, ...SDK_OPTIONS })),
    sfn: (region) => once(`sfn:${region}`, () => new (require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn')).SFNClient({ region, ...SDK_OPTIONS })),
    lambda: (region) => once(`lambda:${region}`, () => new (require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient({ region, ...SDK_OPTIONS })),
    route53: () => once('route53', () => new (require('@aws-sdk/client-route-53') as typeof import('@aws-sdk/client-route-53')).Route53Client({ region: 'us-east-1', ...SDK_OPTIONS })),
  };
}

export interface Clock {
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

/** Looks every `pollMs` until `look` returns a value or the deadline passes; never sleeps past the deadline. */
export async function waitFor<T>(clock: Clock, deadline: number, pollMs: number, look: () => Promise<T | undefined>): Promise<T | undefined> {
  for (;;) {
    const found = await look();
    if (found !== undefined) return found;
    if (clock.now() + pollMs > deadline) return undefined;
    await clock.sleep(pollMs);
  }
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
]);

/**
 * Calls `call`, retrying throttling with backoff (1, 2, 4 … s, `attempts` tries), and turns
 * credential and other AWS errors into CLI errors with their exit codes.
 */
export async function callAws<T>(what: string, call: () => Promise<T>, clock: Clock, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const { name, message } = error as Error;
      const { isThrottlingError } = require('@smithy/core/retry') as typeof import('@smithy/core/retry');
      if (isThrottlingError(error as Parameters<typeof isThrottlingError>[0]) && attempt < attempts) {
        await clock.sleep(1000 * 2 ** (attempt - 1));
        continue;
      }
      if (CREDENTIAL_ERRORS.has(name)) {
        throw new CliError(`no usable AWS credentials (${name}: ${message}). Configure a profile or set AWS_PROFILE.`, ExitCode.credentials);
      }
      if (error instanceof CliError) throw error;
      throw new CliError(`${what} failed: ${name}: ${message}`, ExitCode.aws);
    }
  }
}
