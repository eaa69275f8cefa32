/**
 * The drill's whole path on two real PostgreSQL servers: the writer and its streaming standby. The
 * AWS calls are answered by a stand-in that, when the drill asks for the switchover, does what
 * Aurora does: blocks writes on the old writer, waits until the standby has everything, promotes it,
 * reports the new writer, and then lets the name lead there. The stand-in notes when each of those
 * happened, and the drill's numbers are checked against that truth, never against a speed.
 */
import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, FailoverGlobalClusterCommand, RDSClient, SwitchoverGlobalClusterCommand } from '@aws-sdk/client-rds';
import { ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { awsClients, realClock } from '../cli/aws';
import { analysePhase, lostWrites } from '../cli/drill/analyse';
import type { DrillReport } from '../cli/commands/drill';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { PostgresServer, standbyOf, startPostgres } from './postgres-harness';
import { GLOBAL_ENDPOINT, clusterArn, memberCluster, writerEndpoint } from './writer-dns-fixtures';

const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const NAME = 'keycloak-prod.aurora-global.keycloak.example.com';
const URL_THROUGH_NAME = `postgres://postgres@${NAME}:5432/postgres`;

async function sql(server: PostgresServer, text: string, values: unknown[] = []) {
  const client = new Client({ connectionString: server.url() });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** What really happened, in the stand-in's own clock. */
interface Truth {
  requestedAt?: number;
  fencedAt?: number;
  promotedAt?: number;
  nameFlippedAt?: number;
}

/**
 * Aurora and Route 53 as the drill's AWS calls see them, moving the writer between two real servers.
 * The name leads to `nameTarget`: the global writer endpoint's DNS follows the writer once Aurora
 * reports it (RDS-EVENT-0397 comes after the move finished).
 */
class StandIn {
  writer = WEST;
  nameTarget = WEST;
  inFlight?: { to: string };
  readonly truth: Truth = {};
  private moving?: Promise<void>;

  constructor(private readonly servers: Record<string, PostgresServer>) {
    const rds = mockClient(RDSClient);
    rds.on(DescribeGlobalClustersCommand).callsFake(() => ({
      GlobalClusters: [{
        GlobalClusterIdentifier: 'keycloak-prod',
        Endpoint: GLOBAL_ENDPOINT,
        Status: 'available',
        GlobalClusterMembers: [WEST, CENTRAL].map((region) => ({ DBClusterArn: clusterArn(region), IsWriter: !this.inFlight && region === this.writer, SynchronizationStatus: region === this.writer ? undefined : 'connected' })),
        ...(this.inFlight && { FailoverState: { Status: 'switching-over', FromDbClusterArn: clusterArn(this.writer), ToDbClusterArn: clusterArn(this.inFlight.to) } }),
      }],
    }));
    rds.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: arn }) => ({ DBClusters: [memberCluster(arn.split(':')[3])] }));
    rds.on(SwitchoverGlobalClusterCommand).callsFake(({ TargetDbClusterIdentifier: to }) => this.move(to.split(':')[3], false));
    rds.on(FailoverGlobalClusterCommand).callsFake(({ TargetDbClusterIdentifier: to }) => this.move(to.split(':')[3], true));
    const route53 = mockClient(Route53Client);
    route53.on(ListHostedZonesByNameCommand).resolves({ HostedZones: [{ Id: '/hostedzone/Z0PRIVATEZONE01', Name: 'aurora-global.keycloak.example.com.', CallerReference: 'x', Config: { PrivateZone: true } }], IsTruncated: false, MaxItems: 10 });
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ Name: `${NAME}.`, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: GLOBAL_ENDPOINT }] }], IsTruncated: false, MaxItems: 1 });
  }

  /** The drill's network: new connections go where the name leads; the name leads where the stand-in says. */
  readonly network = {
    endpoint: async () => ({ host: '127.0.0.1', port: this.servers[this.nameTarget].port }),
    leadsTo: async (name: string, endpoint: string) => name === NAME && endpoint === writerEndpoint(this.nameTarget),
  };

  private move(to: string, dataLoss: boolean) {
    this.inFlight = { to };
    this.truth.requestedAt = Date.now();
    const from = this.servers[this.writer];
    const target = this.servers[to];
    this.moving = (async () => {
      if (dataLoss) {
        // An unplanned failover: the old writer is gone at once; what the standby has not received is lost.
        from.crash();
      } else {
        // A switchover: writes on the old writer stop, every session is ended, and the standby catches up first.
        await sql(from, 'ALTER SYSTEM SET default_transaction_read_only = on');
        await sql(from, 'SELECT pg_reload_conf()');
        await sql(from, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'keycloak-aurora-dr drill'");
        this.truth.fencedAt = Date.now();
        const [{ lsn }] = await sql(from, 'SELECT pg_current_wal_lsn()::text AS lsn');
        for (;;) {
          const [{ caught }] = await sql(target, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught', [lsn]);
          if (caught) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      this.truth.fencedAt ??= Date.now();
      await sql(target, 'SELECT pg_promote(true, 60)');
      this.truth.promotedAt = Date.now();
      this.writer = to;
      this.inFlight = undefined;
      // The global endpoint's DNS follows once the move is reported.
      this.nameTarget = to;
      this.truth.nameFlippedAt = Date.now();
    })();
    return {};
  }

  async settled() {
    await this.moving;
  }
}

function drill(argv: string[], standIn?: StandIn, env: Record<string, string> = { DRILL_DATABASE_URL: URL_THROUGH_NAME }) {
  const out: string[] = [];
  const err: string[] = [];
  return run(['drill', 'prod', ...argv], { aws: awsClients(), clock: realClock, env, network: standIn?.network, io: { out: (line) => out.push(line), err: (line) => err.push(line) } })
    .then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('drill', () => {
  let writer: PostgresServer;
  let standby: PostgresServer;
  let folder: string;

  beforeEach(async () => {
    writer = await startPostgres();
    standby = await standbyOf(writer);
    folder = mkdtempSync(join(tmpdir(), 'drill-'));
  });
  afterEach(() => {
    writer?.stop();
    standby?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a switchover through the name: no acknowledged write lost, and every number agrees with what happened', async () => {
    const standIn = new StandIn({ [WEST]: writer, [CENTRAL]: standby });
    const svg = join(folder, 'timeline.svg');
    const { code, out, err } = await drill(['--to', CENTRAL, '--yes-production', '--rate', '20', '--tail', '1', '--poll', '0.05', '--json', '--svg', svg], standIn);
    await standIn.settled();
    expect({ code, err: code === ExitCode.ok ? '' : err }).toEqual({ code: ExitCode.ok, err: '' });
    const report = JSON.parse(out) as DrillReport;
    const [phase] = report.phases;
    const { fencedAt, promotedAt, nameFlippedAt, requestedAt } = standIn.truth as Required<Truth>;
    expect(report.lost).toBe(0);
    expect(report.acknowledged).toBeGreaterThan(0);
    // No write can be acknowledged by the old writer after it was fenced, nor by the new one before the name led there.
    expect(phase.lastAckBeforeAt!).toBeLessThanOrEqual(fencedAt);
    expect(phase.firstAckAfterAt!).toBeGreaterThanOrEqual(nameFlippedAt);
    expect(phase.writeOutageMs).toBeGreaterThanOrEqual(nameFlippedAt - fencedAt);
    expect(phase.failedWrites).toBeGreaterThan(0);
    // Aurora's part ends no sooner than the promotion, and starts no later than the request.
    expect(phase.startedAt).toBeLessThanOrEqual(requestedAt);
    expect(phase.writerMovedAt).toBeGreaterThanOrEqual(promotedAt);
    expect(phase.nameFollowedAt).toBeGreaterThanOrEqual(nameFlippedAt);
    expect(phase.clientAfterBothMs!).toBe(phase.firstAckAfterAt! - Math.max(phase.writerMovedAt, phase.nameFollowedAt));
    // The probe table is gone from the new writer.
    expect(await sql(standby, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'keycloak_aurora_dr_drill_%'")).toEqual([{ n: 0 }]);
    const picture = readFileSync(svg, 'utf8');
    expect(picture).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const label of ['switchover to eu-central-1 requested', 'Aurora: writer moved', 'name leads to the new writer', 'client writing again']) expect(picture).toContain(label);
  });

  test('a failover that loses writes says how many, and the count is what the new writer lacks', async () => {
    const standIn = new StandIn({ [WEST]: writer, [CENTRAL]: standby });
    const { code, out } = await drill(['--to', CENTRAL, '--allow-data-loss', '--yes-production', '--rate', '50', '--tail', '1', '--poll', '0.05', '--json', '--keep-probe-table'], standIn);
    await standIn.settled();
    expect(code).toBe(ExitCode.ok);
    const report = JSON.parse(out) as DrillReport;
    expect(report.phases[0].kind).toBe('failover');
    const [{ n }] = await sql(standby, `SELECT count(*)::int AS n FROM ${report.probeTable}`);
    // Every acknowledged write is either on the new writer or counted lost; none is both.
    const present = await sql(standby, `SELECT seq FROM ${report.probeTable}`);
    expect(report.lostSequences.filter((seq) => present.some((row) => row.seq === seq))).toEqual([]);
    expect(report.acknowledged - report.lost).toBeLessThanOrEqual(n);
  });

  test.each<[string, string[], Record<string, string>, RegExp]>([
    ['an environment with deletion protection, without --yes-production', ['--to', CENTRAL], { DRILL_DATABASE_URL: URL_THROUGH_NAME }, /prod has deletionProtection on: it is treated as production.*Add --yes-production/],
    ['no database URL', ['--to', CENTRAL, '--yes-production'], {}, /DRILL_DATABASE_URL is not set/],
    ['a URL that does not go through the writer name', ['--to', CENTRAL, '--yes-production'], { DRILL_DATABASE_URL: 'postgres://postgres@keycloak-prod-eu-west-1.cluster-x.eu-west-1.rds.amazonaws.com/postgres' }, /must name the writer DNS name keycloak-prod.aurora-global.keycloak.example.com as its host/],
    ['a Region outside the environment', ['--to', 'us-east-1', '--yes-production'], { DRILL_DATABASE_URL: URL_THROUGH_NAME }, /us-east-1/],
  ])('refuses %s before any AWS call or connection', async (_case, argv, env, message) => {
    const rds = mockClient(RDSClient);
    const { code, err } = await drill(argv, undefined, env);
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(message);
    expect(rds.calls()).toEqual([]);
  });
});

describe('drill analysis', () => {
  const marks = { kind: 'switchover' as const, from: WEST, to: CENTRAL, startedAt: 1000, writerMovedAt: 3000, nameFollowedAt: 3500 };
  const ok = (at: number, seq: number) => ({ at, ok: true, seq });
  const fail = (at: number, seq: number) => ({ at, ok: false, seq, error: 'x' });

  test('the outage runs from the last acknowledged write before the first failure to the first after the last', () => {
    const events = [ok(900, 1), ok(1100, 2), fail(1300, 3), fail(2000, 4), ok(2500, 5), fail(2700, 6), ok(3800, 7), ok(4000, 8)];
    expect(analysePhase(events, marks, 5000)).toMatchObject({ writeOutageMs: 2700, lastAckBeforeAt: 1100, firstAckAfterAt: 3800, failedWrites: 3, auroraMs: 2000, nameMs: 500, clientAfterBothMs: 300 });
  });

  test('without a failure the outage is the longest gap between acknowledged writes, the last one before the move included', () => {
    expect(analysePhase([ok(900, 1), ok(1400, 2), ok(1500, 3)], marks, 5000)).toMatchObject({ writeOutageMs: 500, failedWrites: 0 });
  });

  test('a client that never wrote again is down until the end of the window', () => {
    expect(analysePhase([ok(900, 1), fail(1200, 2)], marks, 5000)).toMatchObject({ writeOutageMs: 4100, firstAckAfterAt: undefined });
  });

  test('lost writes are the acknowledged ones the final writer lacks; unacknowledged ones never count', () => {
    expect(lostWrites([ok(1, 1), ok(2, 2), fail(3, 3), ok(4, 4)], new Set([1, 3, 4]))).toEqual([2]);
  });
});
