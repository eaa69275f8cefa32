import {
  EnvironmentInput,
  EnvironmentValidationError,
  environments,
  parseEnvironment,
  parseEnvironments,
  regionPlans,
} from '../environments';
import { environmentInput, siteA, siteB } from './environment-fixtures';

const valid = environmentInput('test');

function caught(action: () => unknown): EnvironmentValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return error;
    throw error;
  }
  throw new Error('expected an EnvironmentValidationError');
}

/** The problems parseEnvironment reports for `valid` changed by `change`. */
function problemsOf(change: Partial<Record<keyof EnvironmentInput, unknown>>): string[] {
  try {
    parseEnvironment({ ...valid, ...change } as EnvironmentInput);
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('environment schema', () => {
  describe('GIVEN the shipped example environments', () => {
    test('THEN every one validates', () => {
      expect(() => parseEnvironments(environments)).not.toThrow();
    });

    test('THEN there is a single-site dev and a multi-site prod over two Regions', () => {
      const byName = Object.fromEntries(parseEnvironments(environments).map((env) => [env.name, env]));
      expect(byName.dev.layout).toBe('single-site');
      expect(byName.prod.layout).toBe('multi-site');
      expect(byName.prod.regions).toHaveLength(2);
      expect(byName.prod.sites.map((site) => site.region)).toEqual(['eu-west-1', 'eu-central-1']);
      expect(byName.staging.layout).toBe('multi-site');
      expect(byName.staging.sites.map((site) => [site.region, site.availabilityZone])).toEqual([
        ['eu-west-1', 'eu-west-1a'],
        ['eu-west-1', 'eu-west-1b'],
      ]);
    });
  });

  describe('GIVEN only the required fields', () => {
    test('THEN the documented defaults apply', () => {
      const env = parseEnvironment(valid);
      expect(env).toMatchObject({
        instancesPerRegion: 1,
        instanceClass: 'db.r6g.large',
        databaseName: 'keycloak',
        masterUsername: 'keycloak',
        deletionProtection: true,
        backupRetentionDays: 7,
        skipFinalSnapshot: false,
        blueGreen: { enabled: false, subscribers: 1, green: false, greenInstances: 1 },
        availabilityZoneCount: 3,
        stateBackend: { type: 'local' },
        writerDns: { domain: 'example.internal', zone: { type: 'private' }, ttlSeconds: 5, target: 'global-writer', reconcileEveryMinutes: 5, handlerTimeoutSeconds: 240, logRetentionDays: 30, alarmEmails: [] },
      });
    });

    test('THEN each Region gets a derived, non-overlapping /20 in the order of regions', () => {
      expect(regionPlans(parseEnvironment(valid))).toEqual([
        { region: 'eu-west-1', isPrimary: true, clusterIdentifier: 'keycloak-test-eu-west-1', vpcCidr: '10.100.0.0/20' },
        { region: 'eu-central-1', isPrimary: false, clusterIdentifier: 'keycloak-test-eu-central-1', vpcCidr: '10.100.16.0/20' },
      ]);
    });

    test('THEN an explicit CIDR wins over the derived one for its Region only', () => {
      const env = parseEnvironment({ ...valid, auroraCidrs: { 'eu-central-1': '172.20.0.0/16' } });
      expect(regionPlans(env).map((plan) => plan.vpcCidr)).toEqual(['10.100.0.0/20', '172.20.0.0/16']);
    });
  });

  describe('WHEN a field breaks a rule THEN the message names the field and the rule', () => {
    test.each<[string, Partial<Record<keyof EnvironmentInput, unknown>>, RegExp]>([
      ['environment name', { name: 'Prod' }, /^name: must be 1 to 32 lowercase letters/],
      ['layout', { layout: 'three-site' }, /^layout: .*"single-site"\|"multi-site"/],
      ['identifier with uppercase', { globalClusterIdentifier: 'Keycloak' }, /^globalClusterIdentifier: must start with a lowercase letter/],
      ['identifier starting with a digit', { globalClusterIdentifier: '1keycloak' }, /^globalClusterIdentifier: must start with a lowercase letter/],
      ['identifier with trailing hyphen', { globalClusterIdentifier: 'keycloak-' }, /^globalClusterIdentifier: must not end with a hyphen/],
      ['identifier with double hyphen', { globalClusterIdentifier: 'key--cloak' }, /^globalClusterIdentifier: must not contain two consecutive hyphens/],
      ['identifier too long', { globalClusterIdentifier: 'k'.repeat(64) }, /^globalClusterIdentifier: must be 1 to 63 characters long, is 64/],
      [
        'derived regional cluster too long',
        { globalClusterIdentifier: 'k'.repeat(52) },
        /^globalClusterIdentifier: derived identifier k{52}-eu-central-1 must be 1 to 63 characters long, is 65/,
      ],
      ['unknown Region, echoed with a suggestion', { regions: ['eu-west-1', 'eu-wset-1'] }, /^regions\[1\]: "eu-wset-1" is not an AWS Region name \(such as eu-west-1\); did you mean eu-west-1\?$/],
      ['duplicated Region', { regions: ['eu-west-1', 'eu-central-1', 'eu-west-1'] }, /^regions\[2\]: eu-west-1 is listed twice/],
      ['no Region', { regions: [] }, /^regions: must name at least the primary Region/],
      [
        'too many Regions',
        {
          regions: ['us-east-1', 'us-east-2', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2',
            'eu-central-1', 'eu-north-1', 'ap-northeast-1', 'ap-southeast-2', 'ap-south-1'],
        },
        /^regions: Aurora allows a primary and at most 10 secondary Regions/,
      ],
      ['Regions in two partitions', { regions: ['us-east-1', 'us-gov-west-1'] }, /^regions: must all be in one AWS partition, found aws, aws-us-gov/],
      ['no instances', { instancesPerRegion: 0 }, /^instancesPerRegion: .*>=1/],
      ['17 instances', { instancesPerRegion: 17 }, /^instancesPerRegion: .*<=16/],
      ['fractional instances', { instancesPerRegion: 1.5 }, /^instancesPerRegion: must be a whole number/],
      [
        'more replicas than the primary may have',
        { instancesPerRegion: 16 },
        /^instancesPerRegion: must be at most 15 with 1 secondary Regions/,
      ],
      ['burstable instance class', { instanceClass: 'db.t4g.medium' }, /^instanceClass: must be a memory-optimized class/],
      ['engine version format', { engineVersion: '16' }, /^engineVersion: must be an Aurora PostgreSQL version MAJOR.MINOR/],
      ['unsupported major version', { engineVersion: '12.22' }, /^engineVersion: major version 12 is not supported/],
      [
        'family that does not match the engine version',
        { engineVersion: '16.6', parameterGroupFamily: 'aurora-postgresql15' },
        /^parameterGroupFamily: aurora-postgresql15 does not match engine version 16.6; it must be aurora-postgresql16/,
      ],
      ['malformed CIDR', { auroraCidrs: { 'eu-west-1': '10.0.0.0/33' } }, /^auroraCidrs.eu-west-1: is not an IPv4 CIDR block/],
      ['CIDR with host bits', { auroraCidrs: { 'eu-west-1': '10.0.0.1/16' } }, /^auroraCidrs.eu-west-1: has host bits set/],
      ['VPC too large', { auroraCidrs: { 'eu-west-1': '10.0.0.0/8' } }, /^auroraCidrs.eu-west-1: must be between \/16 and \/24 \(is \/8\)/],
      ['CIDR for a Region not in regions', { auroraCidrs: { 'us-east-1': '10.9.0.0/16' } }, /^auroraCidrs.us-east-1: us-east-1 is not one of the regions/],
      [
        'overlapping explicit CIDRs',
        { auroraCidrs: { 'eu-west-1': '10.0.0.0/16', 'eu-central-1': '10.0.128.0/20' } },
        /^auroraCidrs.eu-central-1: 10.0.128.0\/20 \(Aurora VPC in eu-central-1\) overlaps 10.0.0.0\/16 \(Aurora VPC in eu-west-1\): peered VPCs must not overlap/,
      ],
      [
        'explicit CIDR overlapping a derived one',
        { auroraCidrs: { 'eu-central-1': '10.100.0.0/22' } },
        /^auroraCidrs.eu-central-1: 10.100.0.0\/22 \(Aurora VPC in eu-central-1\) overlaps 10.100.0.0\/20 \(Aurora VPC in eu-west-1\)/,
      ],
      [
        'pool too small for the Regions',
        { auroraCidrPool: '10.100.0.0/20' },
        /^auroraCidrPool: cannot hold a \/20 for eu-central-1: 10.100.0.0\/20 holds 1 blocks of \/20; block 1 does not exist/,
      ],
      ['database name', { databaseName: 'Key-Cloak' }, /^databaseName: must be 1 to 63 lowercase letters, digits or underscores/],
      ['database name that is an SQL key word', { databaseName: 'select' }, /^databaseName: select is an SQL key word PostgreSQL reserves/],
      ['database name the server already has', { databaseName: 'template1' }, /^databaseName: template1 is a database the server already has/],
      ['master user name too long', { masterUsername: 'a'.repeat(17) }, /^masterUsername: must be 1 to 16 lowercase letters/],
      ['master user name RDS keeps', { masterUsername: 'rdsadmin' }, /^masterUsername: rdsadmin is reserved by PostgreSQL or RDS/],
      ['master user name the engine reserves', { masterUsername: 'admin' }, /^masterUsername: admin is reserved by PostgreSQL or RDS; choose another name/],
      ['master user name that is an SQL key word', { masterUsername: 'user' }, /^masterUsername: user is reserved/],
      ['master user name with a reserved prefix', { masterUsername: 'pg_keycloak' }, /^masterUsername: pg_keycloak starts with pg_, which PostgreSQL and RDS reserve/],
      ['backup retention', { backupRetentionDays: 36 }, /^backupRetentionDays: .*<=35/],
      ['Performance Insights retention', { performanceInsightsRetentionDays: 30 }, /^performanceInsightsRetentionDays: must be 7, 31 × 1 to 23 months \(31 … 713\), or 731/],
      ['Performance Insights retention of 24 months of 31 days', { performanceInsightsRetentionDays: 744 }, /^performanceInsightsRetentionDays: must be 7, 31/],
      ['two availability zones', { availabilityZoneCount: 2 }, /^availabilityZoneCount: .*>=3/],
      ['unknown backend', { stateBackend: { type: 'gcs' } }, /^stateBackend.type: /],
      ['S3 backend without bucket', { stateBackend: { type: 's3', region: 'eu-west-1' } }, /^stateBackend.bucket: /],
      ['S3 backend in an unknown Region', { stateBackend: { type: 's3', bucket: 'state', region: 'mars-1' } }, /^stateBackend.region: "mars-1" is not an AWS Region name/],
      ['S3 backend in another partition', { stateBackend: { type: 's3', bucket: 'state', region: 'us-gov-west-1' } }, /^stateBackend.region: us-gov-west-1 is in partition aws-us-gov, the environment in aws/],
      ['HCP Terraform hostname given as a URL', { stateBackend: { type: 'cloud', organization: 'acme', hostname: 'https://app.terraform.io' } }, /^stateBackend.hostname: must be a host name such as app.terraform.io, without https:\/\//],
      ['HCP Terraform workspace name too long', { stateBackend: { type: 'cloud', organization: 'acme', workspacePrefix: 'w'.repeat(80) } }, /^stateBackend.workspacePrefix: derived workspace name w{80}test-database is 93 characters, HCP Terraform allows 90/],
      ['cloud backend without organization', { stateBackend: { type: 'cloud' } }, /^stateBackend.organization: /],
      ['misspelt field', { instancesPerRegon: 2 } as never, /^instancesPerRegon: is not a field here; did you mean instancesPerRegion\?$/],
      ['misspelt nested field', { writerDns: { domain: 'example.internal', ttl: 5 } } as never, /^writerDns.ttl: is not a field here \(fields: domain, zone, ttlSeconds/],
      ['misspelt field of a backend', { stateBackend: { type: 's3', bucket: 'state', region: 'eu-west-1', keyprefix: 'x' } } as never, /^stateBackend.keyprefix: is not a field here; did you mean keyPrefix\?$/],
      ['missing required field', { engineVersion: undefined }, /^engineVersion: is required$/],
      ['missing required choice', { layout: undefined }, /^layout: is required$/],
      ['a field of the wrong type', { instancesPerRegion: '2' }, /^instancesPerRegion: must be a number, not a string \("2"\)$/],
      ['an empty tag key', { tags: { '': 'x' } }, /tag key must not be empty$/],
      ['misspelt instance size', { instanceClass: 'db.r6g.xlarg' }, /^instanceClass: size xlarg is not an instance size \(large, xlarge, .*\); did you mean xlarge\?$/],
      ['engine version that does not exist', { engineVersion: '16.99' }, /^engineVersion: 16.99 is not an Aurora PostgreSQL version this release knows \(16.1 to 16.\d+\); if AWS released it since, set allowUnlistedEngineVersion: true/],
      ['a route table listed twice', { sites: [{ ...siteA, routeTableIds: ['rtb-0a0a0a0a0a0a00001', 'rtb-0a0a0a0a0a0a00001'] }, siteB] }, /^sites\[0\].routeTableIds\[1\]: rtb-0a0a0a0a0a0a00001 is listed twice/],
      ['an alarm address listed twice', { writerDns: { domain: 'example.internal', alarmEmails: ['a@example.com', 'a@example.com'] } }, /^writerDns.alarmEmails\[1\]: a@example.com is listed twice/],
      ['a tag with the aws: prefix', { tags: { 'aws:team': 'x' } }, /^tags.aws:team: tag key aws:team uses the aws: prefix, which AWS reserves/],
      ['a tag the project sets itself', { tags: { Project: 'x' } }, /^tags.Project: tag Project is set by the project on every resource/],
      ['a tag value too long', { tags: { team: 'x'.repeat(257) } }, /^tags.team: tag team's value must be at most 256 characters, is 257/],
      ['TLS turned off', { clusterParameters: { 'rds.force_ssl': '0' } }, /^clusterParameters.rds.force_ssl: 0 lets every client connect without TLS; the project sets 1. Set allowInsecureTransport: true/],
      ['TLS older than 1.2', { clusterParameters: { ssl_min_protocol_version: 'TLSv1.1' } }, /^clusterParameters.ssl_min_protocol_version: TLSv1.1 allows TLS older than 1.2/],
      ['logical replication off under blue/green', { blueGreen: { enabled: true }, clusterParameters: { 'rds.logical_replication': '0' } }, /^clusterParameters.rds.logical_replication: 0 contradicts blueGreen.enabled/],
      ['too few slots for blue/green', { blueGreen: { enabled: true, subscribers: 2 }, clusterParameters: { max_replication_slots: '2' } }, /^clusterParameters.max_replication_slots: 2 contradicts blueGreen.enabled: blue\/green with 2 subscriber\(s\) needs at least 4/],
      [
        'a derived DNS name too long for Route 53',
        { globalClusterIdentifier: 'k'.repeat(40), writerDns: { domain: `${'d'.repeat(50)}.${'e'.repeat(50)}.${'f'.repeat(50)}.${'g'.repeat(50)}.example` } },
        /^writerDns.domain: derived DNS name k{40}\.aurora-global\.d{50}.* is 266 characters long; a DNS name has at most 253: shorten writerDns.domain or globalClusterIdentifier/,
      ],
      [
        'a derived DR orchestrator function name too long',
        { globalClusterIdentifier: 'k'.repeat(51), regions: ['us-east-1'], sites: [{ ...siteA, region: 'us-east-1' }], layout: 'single-site', drOrchestrator: { enabled: true } },
        /^globalClusterIdentifier: derived Lambda function name k{51}-dr-create-secondary is 71 characters, AWS allows 64: shorten the identifier to 44 characters or fewer$/,
      ],
      [
        'a derived EventBridge rule name too long',
        { globalClusterIdentifier: 'k'.repeat(53), regions: ['us-east-1'], sites: [{ ...siteA, region: 'us-east-1' }], layout: 'single-site' },
        /^globalClusterIdentifier: derived EventBridge rule name k{53}-dns-schedule is 66 characters, AWS allows 64: shorten the identifier to 51 characters or fewer/,
      ],
      ['a custom function that is not a Lambda ARN', { drOrchestrator: { enabled: true, customFunctionArns: ['team-drain'] } }, /^drOrchestrator.customFunctionArns\[0\]: must be a Lambda function ARN/],
      ['an approval topic that is not an SNS ARN', { drOrchestrator: { enabled: true, approvalTopicArns: ['arn:aws:sqs:eu-west-1:123456789012:q'] } }, /^drOrchestrator.approvalTopicArns\[0\]: must be an SNS topic ARN/],
      ['a lag bound of zero', { drOrchestrator: { enabled: true, maxReplicationLagSeconds: 0 } }, /^drOrchestrator.maxReplicationLagSeconds: .*>=1/],
      ['writer DNS domain with a trailing dot', { writerDns: { domain: 'example.internal.' } }, /^writerDns.domain: must be a lowercase DNS name/],
      ['writer DNS domain of one label', { writerDns: { domain: 'internal' } }, /^writerDns.domain: must be a lowercase DNS name of two or more labels/],
      ['writer DNS TTL of zero', { writerDns: { domain: 'example.internal', ttlSeconds: 0 } }, /^writerDns.ttlSeconds: .*>=1/],
      ['unknown writer target', { writerDns: { domain: 'example.internal', target: 'primary' } }, /^writerDns.target: /],
      ['bad alarm e-mail', { writerDns: { domain: 'example.internal', alarmEmails: ['oncall'] } }, /^writerDns.alarmEmails\[0\]: /],
      ['log retention CloudWatch does not offer', { writerDns: { domain: 'example.internal', logRetentionDays: 10 } }, /^writerDns.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30/],
      ['handler timeout above the Lambda maximum', { writerDns: { domain: 'example.internal', handlerTimeoutSeconds: 901 } }, /^writerDns.handlerTimeoutSeconds: .*<=900/],
      ['bad zone id', { writerDns: { domain: 'example.internal', zone: { type: 'existing', zoneId: 'zone-1', zoneName: 'example.internal' } } }, /^writerDns.zone.zoneId: must be a Route 53 hosted zone id/],
      [
        'existing zone that cannot hold the record',
        { writerDns: { domain: 'example.internal', zone: { type: 'existing', zoneId: 'Z0ABCDEF123456', zoneName: 'other.example' } } },
        /^writerDns.zone.zoneName: other.example cannot hold keycloak-test.aurora-global.example.internal: the record must be inside the zone/,
      ],
      ['no writer DNS at all', { writerDns: undefined }, /^writerDns: /],
      [
        'a third Keycloak site',
        { sites: [siteA, siteB, { ...siteB, name: 'site-c', vpcId: 'vpc-0c0c0c0c0c0c00001', cidr: '10.3.0.0/16' }] },
        /^sites: has 3 sites: Keycloak supports at most 2 \(multi-site is built and tested for two/,
      ],
      ['one site for multi-site', { sites: [siteA] }, /^sites: a multi-site layout has exactly 2 sites, found 1/],
      ['two sites for single-site', { layout: 'single-site' }, /^sites: a single-site layout has exactly 1 site, found 2/],
      ['no site', { sites: [] }, /^sites: must name at least one Keycloak site/],
      ['a site in a Region without an Aurora cluster', { sites: [siteA, { ...siteB, region: 'us-east-1' }] }, /^sites\[1\].region: us-east-1 has no Aurora cluster of this global database; add it to regions or move the site/],
      ['a site overlapping an Aurora VPC', { sites: [siteA, { ...siteB, cidr: '10.100.16.0/24' }] }, /^sites\[1\].cidr: 10.100.16.0\/24 \(site site-b\) overlaps 10.100.16.0\/20 \(Aurora VPC in eu-central-1\): peered VPCs must not overlap/],
      ['two overlapping sites', { sites: [siteA, { ...siteB, cidr: '10.1.128.0/17' }] }, /^sites\[1\].cidr: 10.1.128.0\/17 \(site site-b\) overlaps 10.1.0.0\/16 \(site site-a\)/],
      ['two sites with one name', { sites: [siteA, { ...siteB, name: 'site-a' }] }, /^sites\[1\].name: site-a is used by two sites/],
      ['two sites on one VPC', { sites: [siteA, { ...siteB, vpcId: siteA.vpcId }] }, /^sites\[1\].vpcId: vpc-0a0a0a0a0a0a00001 is used by two sites/],
      ['two sites in one Region without zones', { sites: [siteA, { ...siteB, region: 'eu-west-1' }] }, /^sites\[1\].availabilityZone: two sites in eu-west-1 must name different availability zones/],
      [
        'two sites in one zone',
        { sites: [{ ...siteA, availabilityZone: 'eu-west-1a' }, { ...siteB, region: 'eu-west-1', availabilityZone: 'eu-west-1a' }] },
        /^sites\[1\].availabilityZone: two sites in eu-west-1 must name different availability zones/,
      ],
      ['a zone outside the site Region', { sites: [{ ...siteA, availabilityZone: 'eu-central-1a' }, siteB] }, /^sites\[0\].availabilityZone: eu-central-1a is not in eu-west-1/],
      ['a malformed VPC id', { sites: [{ ...siteA, vpcId: 'vpc-XYZ' }, siteB] }, /^sites\[0\].vpcId: must be a VPC id/],
      ['a green clone without logical replication', { blueGreen: { enabled: false, green: true } }, /^blueGreen.green: a green clone needs enabled: true/],
      ['a green clone in a Region outside the cluster', { blueGreen: { enabled: true, green: true, greenRegion: 'us-east-1' } }, /^blueGreen.greenRegion: us-east-1 is not one of the regions/],
      ['a green clone whose name is too long', { globalClusterIdentifier: 'k'.repeat(46), blueGreen: { enabled: true, green: true } }, /^blueGreen.green: derived identifier k{46}-eu-west-1-green-1 must be 1 to 63 characters long, is 64/],
      ['too many subscribers', { blueGreen: { enabled: true, subscribers: 9 } }, /^blueGreen.subscribers: .*<=8/],
      ['a site without route tables', { sites: [{ ...siteA, routeTableIds: [] }, siteB] }, /^sites\[0\].routeTableIds: must name at least one route table/],
    ])('%s', (_rule, change, expected) => {
      const problems = problemsOf(change);
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    });

    test('a mistyped Region is one problem, without the follow-on ones it would cause', () => {
      // siteB is in eu-central-1, which the mistyped list no longer holds; saying so would only repeat the typo.
      expect(problemsOf({ regions: ['eu-west-1', 'eu-centrl-1'] })).toEqual([
        'regions[1]: "eu-centrl-1" is not an AWS Region name (such as eu-west-1); did you mean eu-central-1?',
      ]);
      expect(problemsOf({ blueGreen: { enabled: true, green: true, greenRegion: 'eu-wset-1' } })).toEqual([
        'blueGreen.greenRegion: "eu-wset-1" is not an AWS Region name (such as eu-west-1); did you mean eu-west-1?',
      ]);
    });

    test('every problem is reported at once, prefixed with the environment', () => {
      expect(() =>
        parseEnvironment({ ...valid, globalClusterIdentifier: 'Bad', instancesPerRegion: 0, engineVersion: 'x' }),
      ).toThrow(
        /environment test is invalid:\n {2}- globalClusterIdentifier: .*\n {2}- instancesPerRegion: .*\n {2}- engineVersion: /,
      );
    });
  });

  describe('WHEN environments are parsed together', () => {
    test('THEN two with one name are rejected, once', () => {
      const error = caught(() => parseEnvironments([valid, { ...valid, globalClusterIdentifier: 'other' }]));
      expect(error.problems).toEqual(['name: test is the name of another environment too; their stacks would collide']);
    });

    test('THEN two on one global cluster are rejected', () => {
      expect(() => parseEnvironments([valid, { ...valid, name: 'other' }])).toThrow(
        /globalClusterIdentifier: keycloak-test is also used by environment test; each environment needs its own global cluster/,
      );
    });

    test('THEN two whose derived stack names meet are rejected, naming both fields', () => {
      const kc = environmentInput('kc', { layout: 'single-site', sites: [{ ...siteA, name: 'prod-aa' }], regions: ['eu-west-1'] });
      const kcProd = environmentInput('kc-prod', { layout: 'single-site', sites: [{ ...siteA, name: 'aa', vpcId: 'vpc-0c0c0c0c0c0c00001' }], regions: ['eu-west-1'] });
      const error = caught(() => parseEnvironments([kc, kcProd]));
      expect(error.problems).toEqual([
        'sites[0].name: makes stack kc-prod-aa-access, which environment kc (from its sites[0].name) makes too; their state and resources would collide: rename one',
      ]);
    });

    test('THEN two HCP Terraform workspaces that meet in one organization are rejected', () => {
      const cloud = (workspacePrefix: string) => ({ type: 'cloud' as const, organization: 'acme', workspacePrefix });
      const a = environmentInput('a', { stateBackend: cloud('kc-') });
      const b = environmentInput('kc-a', { stateBackend: cloud('') });
      expect(caught(() => parseEnvironments([a, b])).problems).toContain(
        'stateBackend.workspacePrefix: HCP Terraform workspace acme/kc-a-database is also used by environment a (from its stateBackend.workspacePrefix)',
      );
    });

    test('THEN the problems of every invalid environment are reported in one error', () => {
      const error = caught(() => parseEnvironments([environmentInput('one', { instancesPerRegion: 0 }), valid, environmentInput('two', { engineVersion: '12.1' })]));
      expect(error.message).toMatch(/^2 environments are invalid:\n {2}one:\n {4}- instancesPerRegion: .*\n {2}two:\n {4}- engineVersion: major version 12 is not supported/);
    });
  });

  test.each([
    ['the two-year Performance Insights retention', { performanceInsightsRetentionDays: 731 }],
    ['23 months of Performance Insights', { performanceInsightsRetentionDays: 713 }],
    ['an unlisted engine version when told', { engineVersion: '16.99', allowUnlistedEngineVersion: true }],
    ['TLS off when told', { clusterParameters: { 'rds.force_ssl': '0' }, allowInsecureTransport: true }],
    ['more slots than blue/green needs', { blueGreen: { enabled: true }, clusterParameters: { max_replication_slots: '20' } }],
    ['an HCP Terraform Enterprise host', { stateBackend: { type: 'cloud', organization: 'acme', hostname: 'tfe.example.com' } }],
  ])('%s is accepted', (_name, change) => {
    expect(problemsOf(change as never)).toEqual([]);
  });

  test('a matching parameter group family and the maximum of 10 secondary Regions are accepted', () => {
    const regions = ['us-east-1', 'us-east-2', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2',
      'eu-central-1', 'eu-north-1', 'ap-northeast-1', 'ap-southeast-2'];
    const env = parseEnvironment({ ...valid, regions, parameterGroupFamily: 'aurora-postgresql16', instancesPerRegion: 6 });
    expect(regionPlans(env).map((plan) => plan.vpcCidr)).toHaveLength(11);
  });
});
