import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeDBClustersCommand,
  DescribeDBEngineVersionsCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  GlobalClusterNotFoundFault,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { prodEnvironmentsFile } from './prod-blue-green';
import { ACCOUNT, GLOBAL_ENDPOINT, clusterArn, globalCluster, memberCluster, writerEndpoint } from './writer-dns-fixtures';

/** prod once green took the writes: green global and live. */
const GREEN_LIVE = { enabled: true, green: true, greenGlobal: true, live: 'green' } as const;

// The prod environment of environments/: keycloak-prod over eu-west-1 (primary) and eu-central-1.
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const RECORD = 'keycloak-prod.aurora-global.keycloak.example.com';
const ZONE_ID = 'Z0PRIVATEZONE01';

const rds = mockClient(RDSClient);
const route53 = mockClient(Route53Client);
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  let now = 0;
  const done = run(argv, {
    aws: awsClients(),
    env: {},
    clock: { now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; } },
    io: { out: (line) => out.push(line), err: (line) => err.push(line) },
  });
  return done.then((code) => ({ code, out: out.join('\n'), err: err.join('\n'), sleeps }));
}

const record = (target: string) => ({
  ResourceRecordSets: [{ Name: `${RECORD}.`, Type: 'CNAME' as const, TTL: 5, ResourceRecords: [{ Value: target }] }],
  IsTruncated: false,
  MaxItems: 1,
});

/** The prod global cluster as AWS reports it, with the writer in `writer` and the record on `recordTarget`. */
function given(writer: string | undefined, recordTarget = GLOBAL_ENDPOINT, extra = {}) {
  rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [globalCluster(writer, extra)] });
  for (const region of [WEST, CENTRAL]) {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: clusterArn(region) }).resolves({ DBClusters: [memberCluster(region)] });
  }
  route53.on(ListHostedZonesByNameCommand).resolves({
    HostedZones: [
      { Id: '/hostedzone/Z0PUBLICZONE001', Name: 'aurora-global.keycloak.example.com.', CallerReference: 'public', Config: { PrivateZone: false } },
      { Id: `/hostedzone/${ZONE_ID}`, Name: 'aurora-global.keycloak.example.com.', CallerReference: 'private', Config: { PrivateZone: true } },
    ],
    IsTruncated: false,
    MaxItems: 10,
    DNSName: 'aurora-global.keycloak.example.com',
  });
  route53.on(ListResourceRecordSetsCommand).resolves(record(recordTarget));
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`, UserId: 'AROA:alice' });
}

const mutatingCalls = () => [...rds.commandCalls(SwitchoverGlobalClusterCommand), ...rds.commandCalls(FailoverGlobalClusterCommand)];

beforeEach(() => {
  for (const mock of [rds, route53, sts, ec2]) mock.reset();
});

describe('keycloak-aurora-dr CLI', () => {
  describe('members', () => {
    test('lists the member ARNs, one a line or as JSON', async () => {
      given(WEST);
      await expect(cli(['members', 'prod'])).resolves.toMatchObject({ code: 0, out: `${clusterArn(WEST)}\n${clusterArn(CENTRAL)}` });
      const json = await cli(['members', 'prod', '--json']);
      expect(JSON.parse(json.out)).toEqual([clusterArn(WEST), clusterArn(CENTRAL)]);
    });
  });

  describe('status', () => {
    test('shows each member, no operation, and a record in sync, as a table', async () => {
      given(WEST);
      const { code, out } = await cli(['status', 'prod']);
      expect(code).toBe(ExitCode.ok);
      expect(out).toContain('Global cluster keycloak-prod: available (aurora-postgresql 16.6)');
      expect(out).toContain('Operation in progress: none');
      expect(out).toMatch(/REGION\s+ROLE\s+STATUS\s+REPLICATION\s+CLUSTER ARN/);
      expect(out).toMatch(new RegExp(`eu-west-1\\s+writer\\s+available\\s+-\\s+${clusterArn(WEST)}`));
      expect(out).toMatch(new RegExp(`eu-central-1\\s+reader\\s+available\\s+connected\\s+${clusterArn(CENTRAL)}`));
      expect(out).toContain(`Writer DNS ${RECORD} -> ${GLOBAL_ENDPOINT}`);
      expect(out).toContain('in sync with the writer (global-writer)');
      expect(route53.commandCalls(ListResourceRecordSetsCommand)[0].args[0].input.HostedZoneId).toBe(ZONE_ID);
    });

    test('shows drift plainly when the record names a cluster instead of the global writer endpoint', async () => {
      given(CENTRAL, writerEndpoint(WEST));
      const { code, out } = await cli(['status', 'prod']);
      expect(code).toBe(ExitCode.ok);
      expect(out).toContain(`DRIFT: the writer is ${GLOBAL_ENDPOINT}`);
    });

    test('--json reports members, the operation in progress and the DNS view', async () => {
      given(WEST, GLOBAL_ENDPOINT, { FailoverState: { Status: 'failing-over', FromDbClusterArn: clusterArn(WEST), ToDbClusterArn: clusterArn(CENTRAL), IsDataLossAllowed: true } });
      const { code, out } = await cli(['status', 'prod', '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({
        globalCluster: 'keycloak-prod',
        status: 'available',
        globalWriterEndpoint: GLOBAL_ENDPOINT,
        operationInProgress: { status: 'failing-over', from: clusterArn(WEST), to: clusterArn(CENTRAL), dataLossAllowed: true },
        members: [
          { region: WEST, isWriter: true, status: 'available', endpoint: writerEndpoint(WEST) },
          { region: CENTRAL, isWriter: false, synchronization: 'connected' },
        ],
        dns: { name: RECORD, zoneId: ZONE_ID, target: GLOBAL_ENDPOINT, expected: GLOBAL_ENDPOINT, inSync: true },
      });
    });

    test('once green is live (blueGreen.live) it shows green\'s global cluster, which every command then operates', async () => {
      const file = prodEnvironmentsFile(GREEN_LIVE);
      given(WEST);
      rds.on(DescribeGlobalClustersCommand).rejects(new GlobalClusterNotFoundFault({ message: 'not found', $metadata: {} }));
      rds.on(DescribeGlobalClustersCommand, { GlobalClusterIdentifier: 'keycloak-prod-green' }).resolves({ GlobalClusters: [{ ...globalCluster(WEST), GlobalClusterIdentifier: 'keycloak-prod-green' }] });
      const { code, out } = await cli(['--environments', file, 'status', 'prod', '--json']);
      expect(code).toBe(ExitCode.ok);
      expect(JSON.parse(out)).toMatchObject({ globalCluster: 'keycloak-prod-green' });
      expect(rds.commandCalls(DescribeGlobalClustersCommand).map(({ args }) => args[0].input.GlobalClusterIdentifier)).toContain('keycloak-prod-green');
      expect(rds.commandCalls(DescribeGlobalClustersCommand).map(({ args }) => args[0].input.GlobalClusterIdentifier)).not.toContain('keycloak-prod');
    });

    test('bluegreen rollback --environment refuses, before touching a database, while the environment says green is live', async () => {
      const file = prodEnvironmentsFile(GREEN_LIVE);
      // Nothing listens on port 1: a step that reached for a database would fail with exit 6 instead.
      const out: string[] = [];
      const err: string[] = [];
      const code = await run(['--environments', file, 'bluegreen', 'rollback', '--environment', 'prod'], {
        aws: awsClients(), clock: { now: () => 0, sleep: async () => undefined },
        env: { BLUEGREEN_BLUE_URL: 'postgres://127.0.0.1:1/keycloak', BLUEGREEN_GREEN_URL: 'postgres://127.0.0.1:1/keycloak' },
        io: { out: (line) => out.push(line), err: (line) => err.push(line) },
      });
      expect(code).toBe(ExitCode.refused);
      expect(err.join('\n')).toMatch(/prod says green is live \(blueGreen.live: 'green'\) and blue is not made from it \(blueSource: 'new'\), so its writer-DNS handlers follow green .*set live to 'blue' and deploy prod-database first; .*nothing was changed/);
    });

    test('a member whose Region does not answer is shown as unreachable, not hidden', async () => {
      given(CENTRAL);
      rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: clusterArn(WEST) }).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
      const { code, out } = await cli(['status', 'prod']);
      expect(code).toBe(0);
      expect(out).toMatch(/eu-west-1\s+reader\s+unreachable \(DescribeDBClusters in eu-west-1 failed: TimeoutError: connect ETIMEDOUT\)/);
    });
  });

  describe('preflight', () => {
    const givenFreshAccount = () => {
      sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice` });
      rds.on(DescribeDBEngineVersionsCommand).resolves({ DBEngineVersions: [{ Engine: 'aurora-postgresql', EngineVersion: '16.6' }] });
      rds.on(DescribeGlobalClustersCommand).rejects(new GlobalClusterNotFoundFault({ message: 'GlobalCluster keycloak-prod not found.', $metadata: {} }));
      ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
      ec2.on(DescribeVpcsCommand, { VpcIds: ['vpc-0a0a0a0a0a0a00001'] }).resolves({ Vpcs: [{ VpcId: 'vpc-0a0a0a0a0a0a00001', CidrBlockAssociationSet: [{ CidrBlock: '10.1.0.0/16' }] }] });
      ec2.on(DescribeVpcsCommand, { VpcIds: ['vpc-0b0b0b0b0b0b00001'] }).resolves({ Vpcs: [{ VpcId: 'vpc-0b0b0b0b0b0b00001', CidrBlockAssociationSet: [{ CidrBlock: '10.2.0.0/16' }] }] });
    };

    test('passes in a fresh account, naming the account and each check', async () => {
      givenFreshAccount();
      const { code, out } = await cli(['preflight', 'prod']);
      expect(code).toBe(ExitCode.ok);
      expect(out).toMatch(new RegExp(`credentials\\s+ok\\s+account ${ACCOUNT} as arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`));
      expect(out).toMatch(/region eu-central-1\s+ok\s+reachable; offers aurora-postgresql 16.6/);
      expect(out).toMatch(/global cluster id\s+ok\s+keycloak-prod is free/);
      expect(out).toMatch(/site site-b\s+ok\s+vpc-0b0b0b0b0b0b00001 \(10.2.0.0\/16\) collides with no Aurora VPC/);
    });

    test('exits 1 naming the global cluster when it already exists, and says so in JSON too', async () => {
      givenFreshAccount();
      rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [globalCluster(WEST)] });
      const { code, out, err } = await cli(['preflight', 'prod', '--json']);
      expect(code).toBe(ExitCode.refused);
      expect(JSON.parse(out)).toContainEqual({ check: 'global cluster id', ok: false, detail: 'global cluster keycloak-prod already exists (available, 2 members)' });
      expect(err).toMatch(/error: preflight failed: global cluster keycloak-prod already exists/);
    });

    test('exits 1 when a site VPC collides with an existing Aurora VPC, comparing what AWS reports', async () => {
      givenFreshAccount();
      ec2.on(DescribeVpcsCommand, { Filters: [{ Name: 'tag:Name', Values: ['keycloak-prod-eu-central-1'] }] })
        .resolves({ Vpcs: [{ VpcId: 'vpc-0aurora', CidrBlockAssociationSet: [{ CidrBlock: '10.2.0.0/20' }] }] });
      const { code, out } = await cli(['preflight', 'prod']);
      expect(code).toBe(ExitCode.refused);
      expect(out).toMatch(/site site-b\s+FAILED\s+10.2.0.0\/16 overlaps the existing Aurora VPC 10.2.0.0\/20 in eu-central-1/);
    });

    test('exits 1 when a site VPC is missing or its CIDR is not what the environment says', async () => {
      givenFreshAccount();
      ec2.on(DescribeVpcsCommand, { VpcIds: ['vpc-0a0a0a0a0a0a00001'] }).rejects(Object.assign(new Error("The vpc ID 'vpc-0a0a0a0a0a0a00001' does not exist"), { name: 'InvalidVpcID.NotFound' }));
      ec2.on(DescribeVpcsCommand, { VpcIds: ['vpc-0b0b0b0b0b0b00001'] }).resolves({ Vpcs: [{ VpcId: 'vpc-0b0b0b0b0b0b00001', CidrBlockAssociationSet: [{ CidrBlock: '10.9.0.0/16' }] }] });
      const { code, out } = await cli(['preflight', 'prod']);
      expect(code).toBe(ExitCode.refused);
      expect(out).toMatch(/site site-a\s+FAILED\s+VPC vpc-0a0a0a0a0a0a00001 does not exist in eu-west-1/);
      expect(out).toMatch(/site site-b\s+FAILED\s+the environment says 10.2.0.0\/16, AWS says 10.9.0.0\/16/);
    });

    test('exits 1 when a Region does not offer the engine version', async () => {
      givenFreshAccount();
      rds.on(DescribeDBEngineVersionsCommand).resolves({ DBEngineVersions: [] });
      const { code, out } = await cli(['preflight', 'prod']);
      expect(code).toBe(ExitCode.refused);
      expect(out).toMatch(/region eu-west-1\s+FAILED\s+does not offer aurora-postgresql 16.6/);
    });

    test('exits 3 without credentials, changing nothing', async () => {
      sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
      const { code, err } = await cli(['preflight', 'prod']);
      expect(code).toBe(ExitCode.credentials);
      expect(err).toMatch(/error: no usable AWS credentials \(CredentialsProviderError: Could not load credentials from any providers\)/);
    });
  });

  describe('switchover', () => {
    test('moves the writer, shows progress, waits for the DNS name, and prints both durations', async () => {
      given(WEST);
      const inProgress = globalCluster(WEST, { FailoverState: { Status: 'pending', FromDbClusterArn: clusterArn(WEST), ToDbClusterArn: clusterArn(CENTRAL) } });
      rds.on(DescribeGlobalClustersCommand)
        .resolvesOnce({ GlobalClusters: [globalCluster(WEST)] })
        .resolvesOnce({ GlobalClusters: [inProgress] })
        .resolvesOnce({ GlobalClusters: [inProgress] })
        .resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ListResourceRecordSetsCommand)
        // A record that drifted, put back on the global writer endpoint by the handler.
        .resolvesOnce(record(writerEndpoint(WEST)))
        .resolves(record(`${GLOBAL_ENDPOINT}.`));
      rds.on(SwitchoverGlobalClusterCommand).resolves({ GlobalCluster: inProgress });

      const { code, out, err } = await cli(['switchover', 'prod', '--to', CENTRAL, '--poll', '10']);
      expect(code).toBe(ExitCode.ok);
      expect(rds.commandCalls(SwitchoverGlobalClusterCommand).map(({ args }) => args[0].input)).toEqual([
        { GlobalClusterIdentifier: 'keycloak-prod', TargetDbClusterIdentifier: clusterArn(CENTRAL) },
      ]);
      expect(err.split('\n')).toEqual([
        'switchover of keycloak-prod from eu-west-1 to eu-central-1 started',
        '[0s] pending',
        '[20s] writer in eu-central-1',
        `[20s] the writer is in eu-central-1; waiting for ${RECORD} to follow`,
      ]);
      expect(out).toBe(`switchover to eu-central-1 done: the writer moved in 20s, ${RECORD} followed 10s later`);
    });

    test('--json reports the durations in milliseconds', async () => {
      given(WEST);
      rds.on(DescribeGlobalClustersCommand).resolvesOnce({ GlobalClusters: [globalCluster(WEST)] }).resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ListResourceRecordSetsCommand).resolves(record(GLOBAL_ENDPOINT));
      const { code, out } = await cli(['switchover', 'prod', '--to', CENTRAL, '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({ kind: 'switchover', startedAt: 0, from: WEST, to: CENTRAL, writerMovedAfterMs: 0, dnsFollowedAfterMs: 0 });
    });

    test.each<[string, () => void, string[], RegExp]>([
      ['a Region outside the global cluster', () => given(WEST), ['--to', 'us-east-1'], /us-east-1 is not a Region of global cluster keycloak-prod \(its Regions: eu-west-1, eu-central-1\)/],
      ['the current writer', () => given(CENTRAL), ['--to', CENTRAL], /the cluster in eu-central-1 is already the writer of keycloak-prod; nothing to do/],
      [
        'an operation already in progress',
        () => given(WEST, writerEndpoint(WEST), { FailoverState: { Status: 'failing-over', FromDbClusterArn: clusterArn(WEST), ToDbClusterArn: clusterArn(CENTRAL), IsDataLossAllowed: true } }),
        ['--to', CENTRAL],
        /a failover of keycloak-prod is already in progress \(failing-over, from .*:cluster:keycloak-prod-eu-west-1 to .*:cluster:keycloak-prod-eu-central-1\); wait for it to finish/,
      ],
      [
        'a target that is not in sync',
        () => given(WEST, writerEndpoint(WEST), { GlobalClusterMembers: [{ DBClusterArn: clusterArn(WEST), IsWriter: true }, { DBClusterArn: clusterArn(CENTRAL), IsWriter: false, SynchronizationStatus: 'pending-resync' }] }),
        ['--to', CENTRAL],
        /the cluster in eu-central-1 is pending-resync, not connected/,
      ],
    ])('refuses %s with exit 1 and changes nothing', async (_case, arrange, args, message) => {
      arrange();
      const { code, err } = await cli(['switchover', 'prod', ...args]);
      expect(code).toBe(ExitCode.refused);
      expect(err).toMatch(message);
      expect(mutatingCalls()).toEqual([]);
    });

    test('exits 4 when the writer does not move in time, saying the operation goes on', async () => {
      given(WEST);
      rds.on(SwitchoverGlobalClusterCommand).resolves({});
      const { code, err, sleeps } = await cli(['switchover', 'prod', '--to', CENTRAL, '--timeout', '1', '--poll', '15']);
      expect(code).toBe(ExitCode.timeout);
      expect(err).toMatch(/error: switchover did not finish within 1m00s \(last seen: writer in eu-west-1\); it goes on in AWS, check "status"/);
      expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(60_000);
    });

    test('exits 4 when the writer moved but the DNS name does not follow', async () => {
      given(WEST);
      rds.on(DescribeGlobalClustersCommand).resolvesOnce({ GlobalClusters: [globalCluster(WEST)] }).resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ListResourceRecordSetsCommand).resolves(record(writerEndpoint(WEST)));
      const { code, err } = await cli(['switchover', 'prod', '--to', CENTRAL, '--timeout', '1']);
      expect(code).toBe(ExitCode.timeout);
      expect(err).toMatch(/the writer moved, but keycloak-prod.aurora-global.keycloak.example.com did not follow within 1m00s; check the writer DNS handler/);
    });

    test('retries throttled reads and carries on', async () => {
      given(WEST);
      rds.on(DescribeGlobalClustersCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }))
        .resolvesOnce({ GlobalClusters: [globalCluster(WEST)] })
        .resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ListResourceRecordSetsCommand).resolves(record(GLOBAL_ENDPOINT));
      const { code, sleeps } = await cli(['switchover', 'prod', '--to', CENTRAL]);
      expect(code).toBe(ExitCode.ok);
      expect(sleeps[0]).toBe(1000);
    });
  });

  describe('refusals the environment alone decides', () => {
    test.each([
      ['switchover to a Region outside the environment', ['switchover', 'prod', '--to', 'eu-west-2'], /eu-west-2 is not a Region of global cluster keycloak-prod \(its Regions: eu-west-1, eu-central-1\); did you mean eu-west-1\?/],
      ['failover to a Region outside the environment, with --allow-data-loss', ['failover', 'prod', '--to', 'us-east-1', '--allow-data-loss'], /us-east-1 is not a Region of global cluster keycloak-prod/],
      ['failover to a mistyped Region', ['failover', 'prod', '--to', 'eu-centrl-1'], /eu-centrl-1 is not a Region of global cluster keycloak-prod .*; did you mean eu-central-1\?/],
    ])('%s: exit 1 before any AWS call', async (_case, argv, message) => {
      given(WEST);
      const { code, err } = await cli(argv);
      expect(code).toBe(ExitCode.refused);
      expect(err).toMatch(message);
      expect([...rds.calls(), ...route53.calls(), ...sts.calls(), ...ec2.calls()]).toEqual([]);
    });
  });

  describe('failover', () => {
    test('refuses without --allow-data-loss, saying what can be lost, before calling AWS', async () => {
      const { code, err } = await cli(['failover', 'prod', '--to', CENTRAL]);
      expect(code).toBe(ExitCode.refused);
      expect(err).toMatch(/failover promotes the cluster in eu-central-1 without waiting for replication: writes the current writer committed that have not yet reached it .* are lost\. For a planned move with no data loss use "switchover --to eu-central-1"/);
      expect([...rds.calls(), ...route53.calls(), ...sts.calls()]).toEqual([]);
    });

    test('with --allow-data-loss fails over, asking the target Region first', async () => {
      given(WEST);
      rds.on(DescribeGlobalClustersCommand).resolvesOnce({ GlobalClusters: [globalCluster(WEST)] }).resolves({ GlobalClusters: [globalCluster(CENTRAL)] });
      route53.on(ListResourceRecordSetsCommand).resolves(record(GLOBAL_ENDPOINT));
      const { code, out } = await cli(['failover', 'prod', '--to', CENTRAL, '--allow-data-loss']);
      expect(code).toBe(ExitCode.ok);
      expect(rds.commandCalls(FailoverGlobalClusterCommand).map(({ args }) => args[0].input)).toEqual([
        { GlobalClusterIdentifier: 'keycloak-prod', TargetDbClusterIdentifier: clusterArn(CENTRAL), AllowDataLoss: true },
      ]);
      expect(rds.commandCalls(SwitchoverGlobalClusterCommand)).toEqual([]);
      expect(out).toMatch(/^failover to eu-central-1 done: the writer moved in 0s/);
    });

    test('asks the target Region first, and falls back to another Region when one does not answer', async () => {
      given(WEST);
      const asked: string[] = [];
      let moved = false;
      rds.on(DescribeGlobalClustersCommand).callsFake(async (_input, getClient) => {
        const region = await getClient().config.region();
        asked.push(region);
        if (region === WEST) throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
        return { GlobalClusters: [globalCluster(moved ? CENTRAL : WEST)] };
      });
      rds.on(FailoverGlobalClusterCommand).callsFake(() => {
        moved = true;
        return {};
      });
      rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: clusterArn(WEST) }).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
      route53.on(ListResourceRecordSetsCommand).resolves(record(GLOBAL_ENDPOINT));
      const { code } = await cli(['failover', 'prod', '--to', CENTRAL, '--allow-data-loss']);
      expect(code).toBe(ExitCode.ok);
      expect(asked[0]).toBe(CENTRAL);
      expect(asked).not.toContain(WEST);

      asked.length = 0;
      const status = await cli(['status', 'prod']);
      expect(status.code).toBe(ExitCode.ok);
      expect(asked).toEqual([WEST, CENTRAL]);
      expect(status.out).toMatch(/eu-central-1\s+writer/);
    });
  });

  describe('usage', () => {
    test.each([
      [['status', 'nosuch'], /unknown environment "nosuch"; environments: dev, staging, prod/],
      [['statsu', 'prod'], /unknown command 'statsu'[\s\S]*Did you mean status\?/],
      [['status', 'prod', '--jsno'], /unknown option '--jsno'[\s\S]*Did you mean --json\?/],
      [['switchover', 'prod'], /required option '--to <region>' not specified/],
      [['switchover', 'prod', '--to', CENTRAL, '--timeout', '0'], /must be a positive number of minutes/],
    ])('%j exits 2 with a clear message', async (argv, message) => {
      const { code, err } = await cli(argv as string[]);
      expect(code).toBe(ExitCode.usage);
      expect(err).toMatch(message);
      expect(rds.calls()).toEqual([]);
    });
  });
});
