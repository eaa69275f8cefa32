/**
 * Blue/green under load, on two real PostgreSQL servers on this machine: the rate at which green
 * catches up while pgbench writes to blue at a steady rate, then the write freeze of the cut-over
 * and of the rollback, each with the writer's name moved as its last step (prod's name in a
 * stand-in Route 53 zone that reports a change in sync after --insync-ms), and the longest gap a
 * client that follows the name sees. Run with
 * `bench/bluegreen [scale] [tps] [runs] [--no-row-counts] [--insync-ms=N]`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { awsClients, realClock } from '../cli/aws';
import { run } from '../cli/program';
import { postgresBinDir, startPostgres } from '../test/postgres-harness';
import { prodEnvironmentsFile } from '../test/prod-blue-green';
import { NAME, Zone } from '../test/route53-zone';

const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const inSyncMs = Number(options.find((arg) => arg.startsWith('--insync-ms='))?.split('=')[1] ?? 0);
const flags = options.filter((arg) => !arg.startsWith('--insync-ms='));
const [scale = 10, tps = 300, runs = 3] = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map(Number);

/** prod's blue and green as the stand-in AWS account describes them (environments/prod.ts). */
const ACCOUNT = '123456789012';
const BLUE_ENDPOINT = 'keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com';
const GREEN_ENDPOINT = 'keycloak-prod-eu-west-1-green.cluster-c9akciq32x1p.eu-west-1.rds.amazonaws.com';

function standInAccount(): void {
  const rds = mockClient(RDSClient);
  const cluster = (id: string, region: string, endpoint: string) => ({
    DBClusters: [{ DBClusterIdentifier: id, DBClusterArn: `arn:aws:rds:${region}:${ACCOUNT}:cluster:${id}`, Endpoint: endpoint, Status: 'available', GlobalClusterIdentifier: id.endsWith('-green') ? undefined : 'keycloak-prod' }],
  });
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'keycloak-prod-eu-west-1-green' }).resolves(cluster('keycloak-prod-eu-west-1-green', 'eu-west-1', GREEN_ENDPOINT));
  for (const region of ['eu-west-1', 'eu-central-1']) {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: `keycloak-prod-${region}` }).resolves(cluster(`keycloak-prod-${region}`, region, `keycloak-prod-${region}.cluster-x.${region}.rds.amazonaws.com`));
  }
  rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [{ GlobalClusterIdentifier: 'keycloak-prod', Endpoint: BLUE_ENDPOINT, GlobalClusterMembers: [
    { DBClusterArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:keycloak-prod-eu-west-1`, IsWriter: true },
    { DBClusterArn: `arn:aws:rds:eu-central-1:${ACCOUNT}:cluster:keycloak-prod-eu-central-1`, IsWriter: false }] }] });
  mockClient(STSClient).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/bench/bench`, UserId: 'bench' });
}
const bin = postgresBinDir();

/** prod with its green clone: the name moves to a green the configuration has. */
const environmentsFile = prodEnvironmentsFile({ enabled: true, green: true });

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

function pgbench(args: string[]): ChildProcess {
  return spawn(join(bin, 'pgbench'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function step(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['bluegreen', ...args], { aws: awsClients(), clock: realClock, env, io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  if (code !== 0) throw new Error(`bluegreen ${args.join(' ')} exited ${code}: ${err.join('\n')}`);
  return out.join('\n');
}

async function once(runNumber: number) {
  // Green publishes too: the rollback window's way back to blue.
  const [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres({ logical: true })]);
  try {
    await sql(blue.url(), 'CREATE DATABASE bench');
    await sql(green.url(), 'CREATE DATABASE bench');
    const blueUrl = blue.url('bench');
    await new Promise((resolve, reject) => pgbench(['-i', '-q', '-s', String(scale), blueUrl]).on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`pgbench -i exited ${code}`)))));
    // pgbench_history has no primary key; a full replica identity lets its rows replicate.
    await sql(blueUrl, 'ALTER TABLE pgbench_history REPLICA IDENTITY FULL');
    const [{ size }] = await sql<{ size: string }>(blueUrl, "SELECT pg_size_pretty(pg_database_size('bench')) AS size");
    const env = { BLUEGREEN_BLUE_URL: blueUrl, BLUEGREEN_GREEN_URL: green.url('bench'), BLUEGREEN_REPLICATION_PASSWORD: 'bench-only', BLUEGREEN_PG_BINDIR: bin, KEYCLOAK_AURORA_DR_ENVIRONMENTS: environmentsFile };

    await step(env, 'prepare');
    const attachStart = Date.now();
    await step(env, 'attach');
    const attachMs = Date.now() - attachStart;

    // A steady write load for the rest of the run.
    const load = pgbench(['-c', '4', '-j', '2', '-R', String(tps), '-T', '300', '-n', blueUrl]);
    await new Promise((resolve) => setTimeout(resolve, 3000));

    // Build a backlog: green stops applying while an unthrottled burst writes on top of the steady load.
    await sql(green.url('bench'), 'ALTER SUBSCRIPTION keycloak_bluegreen DISABLE');
    await new Promise((resolve) => pgbench(['-c', '4', '-j', '2', '-T', '15', '-n', blueUrl]).on('close', resolve));
    const backlogBytes = JSON.parse(await step(env, 'lag', '--json')).lagBytes as number;
    const slot = new Client({ connectionString: blueUrl });
    await slot.connect();
    const confirmed = async () =>
      Number((await slot.query("SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint AS b FROM pg_replication_slots WHERE slot_name = 'keycloak_bluegreen'")).rows[0].b);
    const lagNow = async () =>
      Number((await slot.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS b FROM pg_replication_slots WHERE slot_name = 'keycloak_bluegreen'")).rows[0].b);
    const confirmedBefore = await confirmed();
    const catchUpStart = Date.now();
    await sql(green.url('bench'), 'ALTER SUBSCRIPTION keycloak_bluegreen ENABLE');
    // Caught up: less than a second of the steady load's WAL is left.
    while ((await lagNow()) > 512 * 1024 && Date.now() - catchUpStart < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const catchUpMs = Date.now() - catchUpStart;
    const catchUpRate = ((await confirmed()) - confirmedBefore) / (catchUpMs / 1000);
    await slot.end();

    await new Promise((resolve) => setTimeout(resolve, 2000));
    const zone = new Zone(inSyncMs);
    zone.mock();
    zone.cname(NAME, BLUE_ENDPOINT);
    const urls: Record<string, string> = { [BLUE_ENDPOINT]: blueUrl, [GREEN_ENDPOINT]: green.url('bench') };
    const writer = new NameFollowingWriter(() => urls[zone.target(NAME)!]);
    const writing = writer.run();
    await writer.acknowledged(50);
    const cutStart = performance.now();
    const cut = JSON.parse(await step(env, 'cutover', '--terminate', '--json', '--environment', 'prod', ...flags));
    await writer.acknowledged(50);
    const cutEnd = performance.now();
    load.kill('SIGTERM');
    // Keycloak on green for a while; then everything it wrote goes back with the rollback.
    await writer.acknowledged(500);
    const backStart = performance.now();
    const back = JSON.parse(await step(env, 'rollback', '--terminate', '--json', '--environment', 'prod', ...flags));
    await writer.acknowledged(50);
    writer.stop();
    await writing;
    return {
      run: runNumber, size, attachMs, backlogBytes, catchUpMs, catchUpRate,
      freezeMs: cut.writeFreezeMs as number, freezeWithNameMs: cut.writeFreezeWithNameMs as number, writerGapMs: writer.longestGapMs(cutStart, cutEnd),
      rollbackFreezeMs: back.writeFreezeMs as number, rollbackFreezeWithNameMs: back.writeFreezeWithNameMs as number, rollbackGapMs: writer.longestGapMs(backStart, performance.now()),
    };
  } finally {
    blue.stop();
    green.stop();
  }
}

/**
 * A client that writes one row after another, as fast as the database acknowledges, through the
 * writer's name: it looks the name up again each time it (re)connects, as a pool does. Its longest
 * gap between two acknowledged writes is the freeze as a client of the name sees it.
 */
class NameFollowingWriter {
  private running = true;
  private readonly acks: number[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly resolveName: () => string) {}

  stop(): void {
    this.running = false;
  }

  acknowledged(more: number): Promise<void> {
    const count = this.acks.length + more;
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** The longest gap between two acknowledged writes that ends within [from, to]. */
  longestGapMs(from: number, to: number): number {
    return Math.max(...this.acks.slice(1).map((at, i) => (at >= from && at <= to ? at - this.acks[i] : 0)));
  }

  private client?: Client;

  async run(): Promise<void> {
    while (this.running) {
      try {
        this.client = new Client({ connectionString: this.resolveName() });
        this.client.on('error', () => undefined);
        await this.client.connect();
        while (this.running) {
          await this.client.query('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())');
          this.acks.push(performance.now());
          this.waiters = this.waiters.filter((w) => (this.acks.length >= w.count ? (w.resolve(), false) : true));
        }
      } catch {
        // Ended, refused (read-only, fenced, closed) during a freeze: connect again through the name.
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        await this.client?.end().catch(() => undefined);
      }
    }
  }
}

async function main() {
  standInAccount();
  console.log(`blue/green on PostgreSQL 15, two local servers, pgbench scale ${scale}, steady load ${tps} tps (4 clients), ${runs} runs${flags.length ? `, cutover ${flags.join(' ')}` : ''}; ` +
    `the name in a stand-in Route 53 zone, in sync ${inSyncMs} ms after a change (the CLI polls every second)`);
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const result = await once(i);
    results.push(result);
    console.log(
      `run ${i}: database ${result.size}; attach (copy + subscribe) ${(result.attachMs / 1000).toFixed(1)} s; ` +
        `backlog ${(result.backlogBytes / 1024 / 1024).toFixed(1)} MiB caught up in ${(result.catchUpMs / 1000).toFixed(1)} s ` +
        `(${(result.catchUpRate / 1024 / 1024).toFixed(1)} MiB/s); cut-over write freeze ${result.freezeMs} ms, ${result.freezeWithNameMs} ms with the name in sync, ` +
        `${result.writerGapMs.toFixed(0)} ms longest gap a client of the name saw; rollback ${result.rollbackFreezeMs} ms, ${result.rollbackFreezeWithNameMs} ms with the name, ${result.rollbackGapMs.toFixed(0)} ms seen`,
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(
    `median: cut-over freeze ${median(results.map((r) => r.freezeMs))} ms, ${median(results.map((r) => r.freezeWithNameMs))} ms with the name, ${median(results.map((r) => r.writerGapMs)).toFixed(0)} ms seen through the name; ` +
      `rollback ${median(results.map((r) => r.rollbackFreezeMs))} ms, ${median(results.map((r) => r.rollbackFreezeWithNameMs))} ms with the name, ${median(results.map((r) => r.rollbackGapMs)).toFixed(0)} ms seen; ` +
      `catch-up ${(median(results.map((r) => r.catchUpRate)) / 1024 / 1024).toFixed(1)} MiB/s; attach ${(median(results.map((r) => r.attachMs)) / 1000).toFixed(1)} s`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
