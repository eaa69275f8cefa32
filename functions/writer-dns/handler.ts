/**
 * Lambda entry point: keeps `<cluster>.aurora-global.<domain>` on the global cluster's writer.
 * Configuration and clients are made once, at cold start; a bad configuration fails there.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { loadConfig } from './config';
import { createHandler } from './create-handler';

const config = loadConfig(process.env);
const logger = new Logger({
  serviceName: 'writer-dns',
  persistentKeys: { globalCluster: config.globalClusterIdentifier, record: config.recordName },
});
const run = createHandler({
  config,
  clients: {
    rds: new RDSClient({ region: config.region, maxAttempts: 5 }),
    route53: new Route53Client({ region: config.region, maxAttempts: 5 }),
  },
  runtime: {
    logger,
    now: () => Date.now(),
    sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  },
});

export async function handler(event: unknown, context: Context) {
  logger.addContext(context);
  return run(event, context);
}
