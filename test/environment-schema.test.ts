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
        writerDns: { domain: 'example.internal', zone: { type: 'private' }, ttlSeconds: 5, target: 'regional-writer', reconcileEveryMinutes: 5, handlerTimeoutSeconds: 240, logRetentionDays: 30, alarmEmails: [] },
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
      ['unknown Region', { regions: ['eu-west-1', 'eu-westeros-1'] }, /^regions\[1\]: is not an AWS Region name/],
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
      ['master user name too long', { masterUsername: 'a'.repeat(17) }, /^masterUsername: must be 1 to 16 lowercase letters/],
      ['reserved master user name', { masterUsername: 'rdsadmin' }, /^masterUsername: rdsadmin is reserved by RDS/],
      ['backup retention', { backupRetentionDays: 36 }, /^backupRetentionDays: .*<=35/],
      ['Performance Insights retention', { performanceInsightsRetentionDays: 30 }, /^performanceInsightsRetentionDays: must be 7 or a multiple of 31 up to 731/],
      ['two availability zones', { availabilityZoneCount: 2 }, /^availabilityZoneCount: .*>=3/],
      ['unknown backend', { stateBackend: { type: 'gcs' } }, /^stateBackend.type: /],
      ['S3 backend without bucket', { stateBackend: { type: 's3', region: 'eu-west-1' } }, /^stateBackend.bucket: /],
      ['S3 backend in an unknown Region', { stateBackend: { type: 's3', bucket: 'state', region: 'mars-1' } }, /^stateBackend.region: is not an AWS Region name/],
      ['cloud backend without organization', { stateBackend: { type: 'cloud' } }, /^stateBackend.organization: /],
      ['misspelt field', { instanceCount: 2 } as never, /unrecognized key.*instanceCount/i],
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

    test('every problem is reported at once, prefixed with the environment', () => {
      expect(() =>
        parseEnvironment({ ...valid, globalClusterIdentifier: 'Bad', instancesPerRegion: 0, engineVersion: 'x' }),
      ).toThrow(
        /environment test is invalid:\n {2}- globalClusterIdentifier: .*\n {2}- instancesPerRegion: .*\n {2}- engineVersion: /,
      );
    });
  });

  describe('WHEN environments are parsed together', () => {
    test('THEN two with one name are rejected', () => {
      expect(() => parseEnvironments([valid, { ...valid, globalClusterIdentifier: 'other' }])).toThrow(
        /name: is used by two environments/,
      );
    });

    test('THEN two on one global cluster are rejected', () => {
      expect(() => parseEnvironments([valid, { ...valid, name: 'other' }])).toThrow(
        /globalClusterIdentifier: keycloak-test is also used by environment test/,
      );
    });
  });

  test('a matching parameter group family and the maximum of 10 secondary Regions are accepted', () => {
    const regions = ['us-east-1', 'us-east-2', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2',
      'eu-central-1', 'eu-north-1', 'ap-northeast-1', 'ap-southeast-2'];
    const env = parseEnvironment({ ...valid, regions, parameterGroupFamily: 'aurora-postgresql16', instancesPerRegion: 6 });
    expect(regionPlans(env).map((plan) => plan.vpcCidr)).toHaveLength(11);
  });
});
