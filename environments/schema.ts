/**
 * The schema every environment in this folder must satisfy.
 * `parseEnvironments` runs it on all of them before any construct exists, so a bad
 * environment stops synth with a message that names the field and the rule.
 */
import { z } from 'zod';
import {
  AWS_REGIONS_BY_PARTITION,
  cloudWorkspaceName,
  databaseNameProblem,
  drOrchestratorNames,
  drStackName,
  s3StateKey,
  MAX_GLOBAL_DATABASE_REGIONS,
  databaseStackName,
  didYouMean,
  greenStackName,
  hostnameProblem,
  masterUsernameProblem,
  projectTags,
  siteStackName,
  tagProblem,
  unlistedEngineVersionProblem,
  logicalReplicationParameters,
  writerDnsHandlerNames,
  writerZoneName,
  cidrProblem,
  derivedIdentifierProblems,
  dnsNameProblem,
  engineVersionProblem,
  environmentNameProblem,
  slotIdentifiers,
  type DatabaseSlot,
  instanceIdentifier,
  globalInstanceClassProblem,
  overlappingPairs,
  parameterGroupFamily,
  parseCidr,
  parseEngineVersion,
  partitionOf,
  rdsIdentifierProblem,
  regionalClusterIdentifier,
  subdivideCidr,
  writerRecordName,
} from '../modules/core';

/** Prefix length of each region's Aurora VPC when it is cut from `auroraCidrPool`. */
export const DERIVED_VPC_PREFIX_LENGTH = 20;

/** Turns a `(value) => problem | undefined` rule into a zod refinement. */
function rule(problemOf: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = problemOf(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

const cidrBlock = z.string().superRefine(rule(cidrProblem));

const vpcCidrBlock = cidrBlock.superRefine(
  rule((value) => {
    if (cidrProblem(value)) return undefined;
    const { prefixLength } = parseCidr(value);
    return prefixLength < 16 || prefixLength > 24 ? `must be between /16 and /24 (is /${prefixLength})` : undefined;
  }),
);

const ALL_REGIONS = Object.values(AWS_REGIONS_BY_PARTITION).flat();

const region = z.string().superRefine(
  rule((value) => (partitionOf(value) ? undefined : `${JSON.stringify(value)} is not an AWS Region name (such as eu-west-1)${didYouMean(value, ALL_REGIONS)}`)),
);

/** An array whose items each become a resource: the same item twice would make two identical resources. */
function noDuplicates(what: string) {
  return (values: readonly string[], ctx: z.RefinementCtx) => {
    values.forEach((value, index) => {
      if (values.indexOf(value) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `${value} is listed twice; each ${what} is listed once` });
    });
  };
}

const localBackend = z.object({ type: z.literal('local') }).strict();

const s3Backend = z
  .object({
    type: z.literal('s3'),
    /** Bucket that holds the state; it must exist, with versioning on. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    /** Region of the bucket. */
    region,
    /** Key prefix; each stack's state is `<keyPrefix>/<stack>/terraform.tfstate`. */
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, 'must be a key prefix without leading or trailing slash')
      .default('keycloak-aurora-dr'),
    /** KMS key that encrypts the state objects; the bucket's default encryption otherwise. */
    kmsKeyId: z.string().min(1).optional(),
  })
  .strict();

const cloudBackend = z
  .object({
    type: z.literal('cloud'),
    /** HCP Terraform / Terraform Cloud (or Terraform Enterprise) organization. */
    organization: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be an organization name'),
    /** Host name of HCP Terraform or of a Terraform Enterprise installation (no https://). */
    hostname: z.string().superRefine(rule(hostnameProblem)).default('app.terraform.io'),
    /** Project the workspaces belong to; the organization's default project otherwise. */
    project: z.string().min(1).optional(),
    /** Each stack runs in the workspace `<workspacePrefix><stack>`. */
    workspacePrefix: z.string().regex(/^[A-Za-z0-9_-]*$/, 'may contain only letters, digits, - and _').default(''),
  })
  .strict();

const dnsName = z.string().superRefine(rule(dnsNameProblem));

/** Log retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const writerDns = z
  .object({
    /** Domain under which the writer's name lives: `<cluster>.aurora-global.<domain>`. */
    domain: dnsName,
    /**
     * Zone of the record. `private` (default) and `public` create `aurora-global.<domain>`; a private zone
     * is associated with the Aurora VPCs. `existing` writes into a zone you own.
     */
    zone: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('private') }).strict(),
        z.object({ type: z.literal('public') }).strict(),
        z
          .object({
            type: z.literal('existing'),
            zoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABC'),
            zoneName: dnsName,
          })
          .strict(),
      ])
      .default({ type: 'private' }),
    /** TTL of the record, in seconds: how long resolvers may keep the old writer after a failover. @default 5 */
    ttlSeconds: z.number().int().min(1).max(3600).default(5),
    /** `global-writer`: Aurora's global writer endpoint, moved by Aurora itself on a managed switchover or failover (no Route 53 write in the way). `regional-writer`: the writer cluster's endpoint, moved by the handler. @default 'global-writer' */
    target: z.enum(['regional-writer', 'global-writer']).default('global-writer'),
    /** Minutes between reconcile runs that catch missed events. @default 5 */
    reconcileEveryMinutes: z.number().int().min(1).max(60).default(5),
    /** How long one run may wait for a switchover or failover to settle. @default 240 */
    handlerTimeoutSeconds: z.number().int().min(30).max(900).default(240),
    /** Days the handler's logs are kept. @default 30 */
    logRetentionDays: z
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(30),
    /** Addresses the alarm topics e-mail (each must confirm its subscription). @default [] */
    alarmEmails: z.array(z.email()).superRefine(noDuplicates('address')).default([]),
  })
  .strict();

/** Keycloak supports multi-site with exactly two sites; more add latency and failure modes it does not test. */
export const MAX_KEYCLOAK_SITES = 2;

const site = z
  .object({
    /** Site name; names the stack `<env>-<site>-access`. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/, 'must be 2 to 20 lowercase letters, digits or hyphens, starting with a letter'),
    /** Region of the site's Kubernetes cluster (ROSA or EKS); it must hold a member of the global cluster. */
    region,
    /** The existing VPC of the Kubernetes cluster. */
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id such as vpc-0a1b2c3d4e5f67890'),
    /** CIDR block of that VPC; it must not overlap any Aurora VPC or the other site. */
    cidr: cidrBlock.superRefine(
      rule((value) => {
        if (cidrProblem(value)) return undefined;
        const { prefixLength } = parseCidr(value);
        return prefixLength < 16 || prefixLength > 28 ? `must be between /16 and /28 (is /${prefixLength})` : undefined;
      }),
    ),
    /** Route tables the cluster's nodes use; each gets a route to every Aurora VPC. */
    routeTableIds: z
      .array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'must be a route table id such as rtb-0a1b2c3d4e5f67890'))
      .min(1, 'must name at least one route table of the nodes')
      .superRefine(noDuplicates('route table')),
    /** Availability zone of the site; required when both sites share a Region, where they must differ. */
    availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be a zone name such as eu-west-1a').optional(),
  })
  .strict();

export const environmentSchema = z
  .object({
    /** Environment name; prefixes stack names and state keys. */
    name: z.string().superRefine(rule(environmentNameProblem)),
    /** `single-site`: one Keycloak site. `multi-site`: two Keycloak sites. */
    layout: z.enum(['single-site', 'multi-site']),
    /** Identifier of the Aurora global cluster; unique in the account. */
    globalClusterIdentifier: z.string().superRefine(rule(rdsIdentifierProblem)),
    /** Regions of the global cluster; the first holds the primary (writer) cluster. */
    regions: z
      .array(region)
      .min(1, 'must name at least the primary Region')
      .max(
        MAX_GLOBAL_DATABASE_REGIONS,
        `Aurora allows a primary and at most ${MAX_GLOBAL_DATABASE_REGIONS - 1} secondary Regions`,
      ),
    /** DB instances in each regional cluster. @default 1 */
    instancesPerRegion: z.number().int('must be a whole number').min(1).max(16).default(1),
    /** Instance class of every DB instance. @default 'db.r6g.large' */
    instanceClass: z.string().superRefine(rule(globalInstanceClassProblem)).default('db.r6g.large'),
    /** Aurora PostgreSQL engine version, MAJOR.MINOR. */
    engineVersion: z.string().superRefine(rule(engineVersionProblem)),
    /** Accept an engine version newer than the ones this release knows (AWS released it since). @default false */
    allowUnlistedEngineVersion: z.boolean().default(false),
    /** Parameter group family; derived from the engine version when omitted. */
    parameterGroupFamily: z.string().optional(),
    /** Aurora VPC CIDR per Region; Regions left out get a block cut from `auroraCidrPool`. */
    auroraCidrs: z.record(z.string(), vpcCidrBlock).default({}),
    /** Pool the derived Aurora VPC CIDRs are cut from: one /20 per Region, by position in `regions`. @default '10.100.0.0/16' */
    auroraCidrPool: cidrBlock.default('10.100.0.0/16'),
    /** Availability zones (one private subnet each) per Aurora VPC. @default 3 */
    availabilityZoneCount: z.number().int().min(3).max(6).default(3),
    /** Name of the database Keycloak uses. @default 'keycloak' */
    databaseName: z.string().superRefine(rule(databaseNameProblem)).default('keycloak'),
    /** Master user name of the primary cluster. @default 'keycloak' */
    masterUsername: z.string().superRefine(rule(masterUsernameProblem)).default('keycloak'),
    /** Refuse to delete the clusters. @default true */
    deletionProtection: z.boolean().default(true),
    /** Days of automated backups, 1 to 35. @default 7 */
    backupRetentionDays: z.number().int().min(1).max(35).default(7),
    /** Delete the primary without a final snapshot. @default false */
    skipFinalSnapshot: z.boolean().default(false),
    /** Days Performance Insights keeps data: 7 (free tier), a multiple of 31 up to 713 (23 months), or 731 (two years). @default 7 */
    performanceInsightsRetentionDays: z
      .number()
      .int()
      .refine((days) => days === 7 || days === 731 || (days % 31 === 0 && days >= 31 && days <= 713), 'must be 7, 31 × 1 to 23 months (31 … 713), or 731')
      .default(7),
    /** Blue/green upgrades: logical replication on the clusters, and the green clone. @default { enabled: false } */
    blueGreen: z
      .object({
        /** Turn on native logical replication on every cluster (a static setting: it waits for a reboot). */
        enabled: z.boolean(),
        /** Databases that may subscribe at once; sizes slots, WAL senders and workers. @default 1 */
        subscribers: z.number().int().min(1).max(8).default(1),
        /** Synthesise the `<env>-green` stack: a copy-on-write clone of blue. @default false */
        green: z.boolean().default(false),
        /** Region of the cluster to clone (it must hold the writer when you clone). @default the first of regions */
        greenRegion: region.optional(),
        /** Instances of the green clone, and of each of its secondaries. @default 1 */
        greenInstances: z.number().int().min(1).max(16).default(1),
        /** Make green a global database over every Region of the environment before the cut-over (a secondary per other Region). @default false */
        greenGlobal: z.boolean().default(false),
        /** Engine version green runs once upgraded in place (the usual reason for blue/green); its secondaries and parameter groups follow it. @default engineVersion */
        greenEngineVersion: z.string().optional(),
        /** The database that takes the writes: the handlers, the sites' fallback hosts, the DR parameters and the CLI follow it. Set `green` once a cut-over completed. @default 'blue' */
        live: z.enum(['blue', 'green']).default('blue'),
        /** Blue's clusters once green is live: `kept`, `unprotected` (deletion protection off, so that they can go), `retired` (removed; their KMS keys and parameter groups stay: green is encrypted with those keys). @default 'kept' */
        blueClusters: z.enum(['kept', 'unprotected', 'retired']).default('kept'),
        /** How blue's clusters are made: `new` (an empty global database, the environment's first) or `green` (a copy-on-write clone of green's member in green's Region: the next upgrade, from a live green). Change it only while blue is retired. @default 'new' */
        blueSource: z.enum(['new', 'green']).default('new'),
        /** With blueSource `green`: make blue a global database over every Region (a secondary per other Region), once its clone is upgraded. Blue made new is always global. @default false */
        blueGlobal: z.boolean().default(false),
        /** Green's clusters once blue is live again: `kept`, `unprotected`, `retired` (removed; green's parameter groups stay, for its next clone). @default 'kept' */
        greenClusters: z.enum(['kept', 'unprotected', 'retired']).default('kept'),
      })
      .strict()
      .default({ enabled: false, subscribers: 1, green: false, greenInstances: 1, greenGlobal: false, live: 'blue', blueClusters: 'kept', blueSource: 'new', blueGlobal: false, greenClusters: 'kept' }),
    /** The DR orchestrator: a state machine in every Region that runs plans of ordered layers (stack `<env>-dr`). @default { enabled: false } */
    drOrchestrator: z.object({
      enabled: z.boolean(),
      /** Lambda functions (ARNs; a trailing `*` matches any rest) that CustomLambda steps may invoke. @default [] */
      customFunctionArns: z.array(z.string().regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_*-]+(:[A-Za-z0-9_$*-]+)?$/, 'must be a Lambda function ARN (a trailing * matches any rest)')).default([]),
      /** SNS topics (ARNs) ManualApproval steps may ask on, besides the orchestrator's own. @default [] */
      approvalTopicArns: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.*-]+$/, 'must be an SNS topic ARN')).default([]),
      /** Replication lag, in seconds, above which the readiness evaluation alarms. @default 60 */
      maxReplicationLagSeconds: z.number().int().min(1).max(3600).default(60),
    }).strict().default({ enabled: false, customFunctionArns: [], approvalTopicArns: [], maxReplicationLagSeconds: 60 }),
    /** Extra cluster parameters, merged over the project's own. @default {} */
    clusterParameters: z.record(z.string(), z.string()).default({}),
    /**
     * Let clusterParameters allow connections without TLS (`rds.force_ssl` 0) or older TLS than 1.2.
     * Every client that is not Keycloak may then send credentials in plain text. @default false
     */
    allowInsecureTransport: z.boolean().default(false),
    /** The Keycloak sites: one for `single-site`, two for `multi-site`. */
    sites: z.array(site).min(1, 'must name at least one Keycloak site'),
    /** The DNS name Keycloak connects to, and the handler that keeps it on the writer. */
    writerDns,
    /** Where each stack keeps its Terraform state. @default { type: 'local' } */
    stateBackend: z.discriminatedUnion('type', [localBackend, s3Backend, cloudBackend]).default({ type: 'local' }),
    /** Tags added to every resource, next to the project's own. @default {} */
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((env, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });

    const duplicates = env.regions.filter((name, index) => env.regions.indexOf(name) !== index);
    env.regions.forEach((name, index) => {
      if (env.regions.indexOf(name) !== index) issue(['regions', index], `${name} is listed twice`);
    });
    const partitions = new Set(env.regions.map(partitionOf).filter(Boolean));
    if (partitions.size > 1) {
      issue(['regions'], `must all be in one AWS partition, found ${[...partitions].join(', ')}`);
    }

    const secondaries = env.regions.length - 1;
    if (env.instancesPerRegion > 16 - secondaries) {
      issue(
        ['instancesPerRegion'],
        `must be at most ${16 - secondaries} with ${secondaries} secondary Regions: Aurora allows the primary 15 minus the number of secondary Regions read replicas`,
      );
    }

    if (!rdsIdentifierProblem(env.globalClusterIdentifier)) {
      for (const { identifier, problem } of derivedIdentifierProblems(
        env.globalClusterIdentifier,
        env.regions,
        env.instancesPerRegion,
      )) {
        issue(['globalClusterIdentifier'], `derived identifier ${identifier} ${problem}`);
      }
    }

    if (env.parameterGroupFamily !== undefined && !engineVersionProblem(env.engineVersion)) {
      const expected = parameterGroupFamily(env.engineVersion);
      if (env.parameterGroupFamily !== expected) {
        issue(
          ['parameterGroupFamily'],
          `${env.parameterGroupFamily} does not match engine version ${env.engineVersion}; it must be ${expected}`,
        );
      }
    }

    const { zone, domain } = env.writerDns;
    if (zone.type === 'existing' && !dnsNameProblem(domain) && !dnsNameProblem(zone.zoneName)) {
      const record = writerRecordName(env.globalClusterIdentifier, domain);
      if (!record.endsWith(`.${zone.zoneName}`)) {
        issue(['writerDns', 'zone', 'zoneName'], `${zone.zoneName} cannot hold ${record}: the record must be inside the zone`);
      }
    }

    const expectedSites = env.layout === 'single-site' ? 1 : MAX_KEYCLOAK_SITES;
    if (env.sites.length > MAX_KEYCLOAK_SITES) {
      issue(['sites'], `has ${env.sites.length} sites: Keycloak supports at most ${MAX_KEYCLOAK_SITES} (multi-site is built and tested for two; every further site adds synchronous round trips and failure modes)`);
    } else if (env.sites.length !== expectedSites) {
      issue(['sites'], `a ${env.layout} layout has exactly ${expectedSites} site${expectedSites > 1 ? 's' : ''}, found ${env.sites.length}`);
    }
    const regionsValid = env.regions.length > 0 && env.regions.every((name) => partitionOf(name));
    env.sites.forEach((site, index) => {
      // With a mistyped Region in regions, "no cluster in that Region" would only repeat that problem.
      if (regionsValid && partitionOf(site.region) && !env.regions.includes(site.region)) {
        issue(['sites', index, 'region'], `${site.region} has no Aurora cluster of this global database; add it to regions or move the site`);
      }
      if (site.availabilityZone && !site.availabilityZone.startsWith(site.region)) {
        issue(['sites', index, 'availabilityZone'], `${site.availabilityZone} is not in ${site.region}`);
      }
      for (const field of ['name', 'vpcId'] as const) {
        if (env.sites.findIndex((other) => other[field] === site[field]) !== index) {
          issue(['sites', index, field], `${site[field]} is used by two sites`);
        }
      }
    });
    const [first, second] = env.sites;
    if (second && first.region === second.region) {
      if (!first.availabilityZone || !second.availabilityZone || first.availabilityZone === second.availabilityZone) {
        issue(['sites', 1, 'availabilityZone'], `two sites in ${first.region} must name different availability zones, so that a zone failure leaves one`);
      }
    }

    if (env.blueGreen.green && !rdsIdentifierProblem(env.globalClusterIdentifier)) {
      const green = slotIdentifiers(env.globalClusterIdentifier, 'green').member(greenRegionOf(env));
      for (const identifier of [green, instanceIdentifier(green, env.blueGreen.greenInstances)]) {
        const problem = rdsIdentifierProblem(identifier);
        if (problem) issue(['blueGreen', 'green'], `derived identifier ${identifier} ${problem}`);
      }
    }
    if (env.blueGreen.greenGlobal && !env.blueGreen.green) {
      issue(['blueGreen', 'greenGlobal'], 'a green global database is made from the green clone: it needs green: true');
    }
    if (env.blueGreen.greenGlobal && !rdsIdentifierProblem(env.globalClusterIdentifier)) {
      const greenRegion = greenRegionOf(env);
      for (const region of env.regions.filter((candidate) => candidate !== greenRegion)) {
        const secondary = slotIdentifiers(env.globalClusterIdentifier, 'green').member(region);
        for (const identifier of [secondary, instanceIdentifier(secondary, env.blueGreen.greenInstances)]) {
          const problem = rdsIdentifierProblem(identifier);
          if (problem) issue(['blueGreen', 'greenGlobal'], `derived identifier ${identifier} ${problem}`);
        }
      }
    }
    const { blueGreen } = env;
    const greenVersion = blueGreen.greenEngineVersion;
    if (greenVersion !== undefined) {
      const problem = engineVersionProblem(greenVersion) ?? (env.allowUnlistedEngineVersion ? undefined : unlistedEngineVersionProblem(greenVersion));
      if (problem) issue(['blueGreen', 'greenEngineVersion'], problem);
      // From the second upgrade on, either slot may be the newer one while the older waits to be retired.
      else if (blueGreen.blueSource === 'new' && !engineVersionProblem(env.engineVersion) && parseEngineVersion(greenVersion).major < parseEngineVersion(env.engineVersion).major) {
        issue(['blueGreen', 'greenEngineVersion'], `${greenVersion} is an older major version than blue's ${env.engineVersion}: a blue/green upgrade goes forward`);
      }
    }
    if (blueGreen.live === 'green' && !(blueGreen.green && blueGreen.greenGlobal)) {
      issue(['blueGreen', 'live'], 'green takes the writes only as a global database over every Region (green: true, greenGlobal: true), so that it keeps cross-Region disaster recovery and the handlers have a global cluster to follow');
    }
    if (blueGreen.live === 'blue' && blueGreen.blueSource === 'green' && !blueGreen.blueGlobal) {
      issue(['blueGreen', 'live'], 'blue made from green takes the writes only as a global database over every Region (blueGlobal: true), so that it keeps cross-Region disaster recovery and the handlers have a global cluster to follow');
    }
    const retiring = { blue: blueGreen.blueClusters, green: blueGreen.greenClusters } as const;
    for (const slot of ['blue', 'green'] as const) {
      const other = slot === 'blue' ? 'green' : 'blue';
      const field = `${slot}Clusters` as const;
      if (retiring[slot] !== 'kept' && blueGreen.live !== other) {
        issue(['blueGreen', field], `${retiring[slot]}: ${slot}'s clusters may lose their protection or go only once ${other} takes the writes (live: '${other}')`);
      }
      const global = slot === 'blue' ? blueGreen.blueGlobal : blueGreen.greenGlobal;
      if (retiring[slot] === 'retired' && global) {
        issue(['blueGreen', `${slot}Global`], `a retired ${slot} is not global: set ${slot}Global: false with ${field}: 'retired', so that its next clone starts alone and can be upgraded in place before it gets secondaries`);
      }
    }
    if (blueGreen.greenClusters !== 'kept' && !blueGreen.green) {
      issue(['blueGreen', 'greenClusters'], `${blueGreen.greenClusters}: green's clusters are in the green stack: it needs green: true until they are gone`);
    }
    if (blueGreen.blueGlobal && blueGreen.blueSource !== 'green') {
      issue(['blueGreen', 'blueGlobal'], 'blue made new is always a global database: blueGlobal applies to blue made from green (blueSource: \'green\')');
    }
    if (blueGreen.blueSource === 'green') {
      if (!blueGreen.green) issue(['blueGreen', 'blueSource'], 'blue made from green needs green: true: its source, green, is in the green stack');
      if (greenVersion === undefined) {
        issue(['blueGreen', 'greenEngineVersion'], 'is required with blueSource: \'green\': blue\'s clone is created on the version green runs, and engineVersion names the version blue is upgraded to');
      }
    }
    if (env.blueGreen.green && !env.blueGreen.enabled) {
      issue(['blueGreen', 'green'], 'a green clone needs enabled: true: it replicates from blue through logical replication');
    }
    if (env.blueGreen.greenRegion && partitionOf(env.blueGreen.greenRegion) && regionsValid && !env.regions.includes(env.blueGreen.greenRegion)) {
      issue(['blueGreen', 'greenRegion'], `${env.blueGreen.greenRegion} is not one of the regions; a clone is made in its source cluster's Region`);
    }

    if (!env.allowUnlistedEngineVersion && !engineVersionProblem(env.engineVersion)) {
      const problem = unlistedEngineVersionProblem(env.engineVersion);
      if (problem) issue(['engineVersion'], problem);
    }

    for (const [key, value] of Object.entries(env.tags)) {
      const problem = tagProblem(key, value) ?? (PROJECT_TAG_KEYS.includes(key) ? `tag ${key} is set by the project on every resource; choose another key` : undefined);
      if (problem) issue(['tags', key], problem);
    }

    clusterParameterIssues(env).forEach(({ name, message }) => issue(['clusterParameters', name], message));
    derivedNameIssues(env).forEach(({ path, message }) => issue(path, message));

    if (env.stateBackend.type === 's3' && partitionOf(env.stateBackend.region) && partitions.size === 1 && !partitions.has(partitionOf(env.stateBackend.region)!)) {
      issue(['stateBackend', 'region'], `${env.stateBackend.region} is in partition ${partitionOf(env.stateBackend.region)}, the environment in ${[...partitions][0]}; one set of credentials cannot reach both`);
    }

    for (const name of Object.keys(env.auroraCidrs)) {
      if (!env.regions.includes(name)) issue(['auroraCidrs', name], `${name} is not one of the regions`);
    }
    const cidrsValid = !cidrProblem(env.auroraCidrPool) && Object.values(env.auroraCidrs).every((cidr) => !cidrProblem(cidr));
    const siteCidrsValid = env.sites.every((site) => !cidrProblem(site.cidr));
    if (cidrsValid && siteCidrsValid && duplicates.length === 0) {
      const blocks: Array<{ path: Array<string | number>; label: string; cidr: string }> = [];
      env.regions.forEach((name, index) => {
        try {
          blocks.push({ path: ['auroraCidrs', name], label: `Aurora VPC in ${name}`, cidr: auroraVpcCidr(env, index) });
        } catch (error) {
          issue(['auroraCidrPool'], `cannot hold a /${DERIVED_VPC_PREFIX_LENGTH} for ${name}: ${(error as Error).message}`);
        }
      });
      env.sites.forEach((site, index) => blocks.push({ path: ['sites', index, 'cidr'], label: `site ${site.name}`, cidr: site.cidr }));
      for (const [left, right] of overlappingPairs(blocks)) {
        issue(
          right.path,
          `${right.cidr} (${right.label}) overlaps ${left.cidr} (${left.label}): peered VPCs must not overlap, or routes cannot reach both`,
        );
      }
    }
  });

/** Tag keys the project sets on every resource itself. */
export const PROJECT_TAG_KEYS = Object.keys(projectTags('', ''));

type Parsed = z.output<typeof environmentSchema>;

/** Cluster parameters that would weaken TLS, or contradict blue/green. */
function clusterParameterIssues(env: Parsed): Array<{ name: string; message: string }> {
  const given = env.clusterParameters;
  const issues: Array<{ name: string; message: string }> = [];
  if (!env.allowInsecureTransport) {
    if (given['rds.force_ssl'] !== undefined && given['rds.force_ssl'] !== '1') {
      issues.push({ name: 'rds.force_ssl', message: `${given['rds.force_ssl']} lets every client connect without TLS; the project sets 1. Set allowInsecureTransport: true if that is meant` });
    }
    const tls = given.ssl_min_protocol_version;
    if (tls !== undefined && !['TLSv1.2', 'TLSv1.3'].includes(tls)) {
      issues.push({ name: 'ssl_min_protocol_version', message: `${tls} allows TLS older than 1.2; set allowInsecureTransport: true if that is meant` });
    }
  }
  if (env.blueGreen.enabled) {
    for (const [name, needed] of Object.entries(logicalReplicationParameters(env.blueGreen.subscribers))) {
      const value = given[name];
      if (value === undefined) continue;
      const contradicts = name === 'rds.logical_replication' ? value !== needed : !(Number(value) >= Number(needed));
      if (contradicts) {
        issues.push({ name, message: `${value} contradicts blueGreen.enabled: blue/green with ${env.blueGreen.subscribers} subscriber(s) needs ${name === 'rds.logical_replication' ? needed : `at least ${needed}`}` });
      }
    }
  }
  return issues;
}

/** Every derived name AWS, Route 53 or HCP Terraform limits, checked here before any construct exists. */
function derivedNameIssues(env: Parsed): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const identifier = env.globalClusterIdentifier;
  if (!rdsIdentifierProblem(identifier)) {
    const dr = env.drOrchestrator.enabled ? drOrchestratorNames(identifier) : undefined;
    // One issue, for the name that overflows most: shortening the identifier for it fixes every other.
    const [worst] = [...Object.values(writerDnsHandlerNames(identifier)), ...(dr ? [dr.stateMachine, dr.approvalTopic, dr.readinessRule, ...dr.functions] : [])]
      .filter(({ name, maxLength }) => name.length > maxLength)
      .sort((a, b) => (b.name.length - b.maxLength) - (a.name.length - a.maxLength));
    if (worst) {
      issues.push({ path: ['globalClusterIdentifier'], message: `derived ${worst.what} name ${worst.name} is ${worst.name.length} characters, AWS allows ${worst.maxLength}: shorten the identifier to ${identifier.length - (worst.name.length - worst.maxLength)} characters or fewer` });
    }
    const { domain } = env.writerDns;
    if (!dnsNameProblem(domain)) {
      for (const name of [writerZoneName(domain), writerRecordName(identifier, domain)]) {
        const problem = dnsNameProblem(name);
        if (problem) issues.push({ path: ['writerDns', 'domain'], message: `derived DNS name ${name} ${problem}: shorten writerDns.domain or globalClusterIdentifier` });
      }
    }
  }
  const backend = env.stateBackend;
  for (const stack of stackNamesOf(env)) {
    if (backend.type === 'cloud') {
      const workspace = cloudWorkspaceName(backend.workspacePrefix, stack);
      if (workspace.length > HCP_WORKSPACE_NAME_MAX_LENGTH) {
        issues.push({ path: ['stateBackend', 'workspacePrefix'], message: `derived workspace name ${workspace} is ${workspace.length} characters, HCP Terraform allows ${HCP_WORKSPACE_NAME_MAX_LENGTH}` });
      }
    }
    if (backend.type === 's3') {
      const key = s3StateKey(backend.keyPrefix, stack);
      if (Buffer.byteLength(key) > 1024) issues.push({ path: ['stateBackend', 'keyPrefix'], message: `derived state key ${key} is longer than the 1024 bytes S3 allows` });
    }
  }
  return issues;
}

/** Longest workspace name HCP Terraform and Terraform Enterprise accept. */
export const HCP_WORKSPACE_NAME_MAX_LENGTH = 90;

/** The stacks an environment synthesises, by name. */
export function stackNamesOf(env: Pick<Parsed, 'name' | 'sites' | 'blueGreen' | 'drOrchestrator'>): string[] {
  return [
    databaseStackName(env.name),
    ...env.sites.map((site) => siteStackName(env.name, site.name)),
    ...(env.blueGreen.green ? [greenStackName(env.name)] : []),
    ...(env.drOrchestrator.enabled ? [drStackName(env.name)] : []),
  ];
}

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type EnvironmentConfig = z.output<typeof environmentSchema>;

/** The Aurora VPC CIDR of the `index`-th Region: given explicitly, or cut from the pool. */
export function auroraVpcCidr(
  env: Pick<EnvironmentConfig, 'regions' | 'auroraCidrs' | 'auroraCidrPool'>,
  index: number,
): string {
  return env.auroraCidrs[env.regions[index]] ?? subdivideCidr(env.auroraCidrPool, DERIVED_VPC_PREFIX_LENGTH, index);
}

/** One Region of the global cluster, with everything derived for it. */
export interface RegionPlan {
  readonly region: string;
  readonly isPrimary: boolean;
  readonly clusterIdentifier: string;
  readonly vpcCidr: string;
}

/** The Region of green's clone, and of green's primary once it is global: `greenRegion`, else the first of regions. */
export function greenRegionOf(env: { readonly regions: readonly string[]; readonly blueGreen: { readonly greenRegion?: string } }): string {
  return env.blueGreen.greenRegion ?? env.regions[0];
}

/** The database that takes the writes (`blueGreen.live`): its global cluster and members, which the handlers, sites, DR plans and CLI follow. */
export function liveDatabase(env: Pick<EnvironmentConfig, 'globalClusterIdentifier' | 'blueGreen'>) {
  return slotIdentifiers(env.globalClusterIdentifier, env.blueGreen.live);
}

/**
 * The slot a blue/green run moves the writes to: the copy of the live database, green (a clone of
 * blue) or, once green is live, blue made from it (`blueSource: 'green'`); none while the other slot
 * is retired, or is the original blue a live green came from.
 */
export function upgradeTargetSlot(env: Pick<EnvironmentConfig, 'blueGreen'>): DatabaseSlot | undefined {
  const { blueGreen } = env;
  if (blueGreen.live === 'blue') return blueGreen.green && blueGreen.greenClusters !== 'retired' ? 'green' : undefined;
  return blueGreen.blueSource === 'green' && blueGreen.blueClusters !== 'retired' ? 'blue' : undefined;
}

/** Whether a slot's clusters are a global database (of a validated environment): blue made new always, a clone once its `*Global` is set; a retired slot never. */
export function slotIsGlobal(env: Pick<EnvironmentConfig, 'blueGreen'>, slot: DatabaseSlot): boolean {
  const { blueGreen } = env;
  // Validation makes greenGlobal need green, and a retired slot not global.
  return slot === 'blue' ? blueGreen.blueClusters !== 'retired' && (blueGreen.blueSource === 'new' || blueGreen.blueGlobal) : blueGreen.greenGlobal;
}

/** The per-Region plan of a validated environment, primary first. */
export function regionPlans(env: EnvironmentConfig): RegionPlan[] {
  return env.regions.map((region, index) => ({
    region,
    isPrimary: index === 0,
    clusterIdentifier: regionalClusterIdentifier(env.globalClusterIdentifier, region),
    vpcCidr: auroraVpcCidr(env, index),
  }));
}
