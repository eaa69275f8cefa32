/**
 * Blue/green under load, on two real PostgreSQL servers on this machine:
 * the write-freeze time of the cut-over and the rate at which green catches up, while pgbench
 * writes to blue at a steady rate. Run with `bench/bluegreen [scale] [tps] [runs] [--no-row-counts]`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { realClock } from '../cli/aws';
import { run } from '../cli/program';
import { awsClients } from '../cli/aws';
import { postgresBinDir, startPostgres } from '../test/postgres-harness';

const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const [scale = 10, tps = 300, runs = 3] = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map(Number);
const bin = postgresBinDir();

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
  const [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres()]);
  try {
    await sql(blue.url(), 'CREATE DATABASE bench');
    await sql(green.url(), 'CREATE DATABASE bench');
    const blueUrl = blue.url('bench');
    await new Promise((resolve, reject) => pgbench(['-i', '-q', '-s', String(scale), blueUrl]).on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`pgbench -i exited ${code}`)))));
    // pgbench_history has no primary key; a full replica identity lets its rows replicate.
    await sql(blueUrl, 'ALTER TABLE pgbench_history REPLICA IDENTITY FULL');
    const [{ size }] = await sql<{ size: string }>(blueUrl, "SELECT pg_size_pretty(pg_database_size('bench')) AS size");
    const env = { BLUEGREEN_BLUE_URL: blueUrl, BLUEGREEN_GREEN_URL: green.url('bench'), BLUEGREEN_REPLICATION_PASSWORD: 'bench-only', BLUEGREEN_PG_BINDIR: bin };

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
    const writer = new SwitchingWriter(blueUrl);
    const writing = writer.run();
    await writer.acknowledged(50);
    const cut = JSON.parse(await step(env, 'cutover', '--terminate', '--json', ...flags));
    // Keycloak moves to green once the cut-over says green is complete.
    writer.switchTo(green.url('bench'));
    await writer.acknowledged(50);
    writer.stop();
    await writing;
    load.kill('SIGTERM');
    return { run: runNumber, size, attachMs, backlogBytes, catchUpMs, catchUpRate, freezeMs: cut.writeFreezeMs as number, writerGapMs: writer.longestGapMs() };
  } finally {
    blue.stop();
    green.stop();
  }
}

/**
 * A client that writes one row after another on blue, as fast as blue acknowledges, and moves to green
 * when told: its longest gap between two acknowledged writes is the freeze as a writer sees it.
 */
class SwitchingWriter {
  private url: string;
  private running = true;
  private readonly acks: number[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(url: string) {
    this.url = url;
  }

  switchTo(url: string): void {
    this.url = url;
    this.client?.end().catch(() => undefined);
  }

  stop(): void {
    this.running = false;
  }

  acknowledged(more: number): Promise<void> {
    const count = this.acks.length + more;
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  longestGapMs(): number {
    return Math.max(...this.acks.slice(1).map((at, i) => at - this.acks[i]));
  }

  private client?: Client;

  async run(): Promise<void> {
    while (this.running) {
      const url = this.url;
      try {
        this.client = new Client({ connectionString: url });
        this.client.on('error', () => undefined);
        await this.client.connect();
        while (this.running && url === this.url) {
          await this.client.query('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())');
          this.acks.push(performance.now());
          this.waiters = this.waiters.filter((w) => (this.acks.length >= w.count ? (w.resolve(), false) : true));
        }
      } catch {
        // Terminated or refused by blue during the freeze: try again, on green once told.
      } finally {
        await this.client?.end().catch(() => undefined);
      }
    }
  }
}

async function main() {
  console.log(`blue/green on PostgreSQL 15, two local servers, pgbench scale ${scale}, steady load ${tps} tps (4 clients), ${runs} runs${flags.length ? `, cutover ${flags.join(' ')}` : ''}`);
  const results = [];
  for (let i = 1; i <= runs; i++) {
    const result = await once(i);
    results.push(result);
    console.log(
      `run ${i}: database ${result.size}; attach (copy + subscribe) ${(result.attachMs / 1000).toFixed(1)} s; ` +
        `backlog ${(result.backlogBytes / 1024 / 1024).toFixed(1)} MiB caught up in ${(result.catchUpMs / 1000).toFixed(1)} s ` +
        `(${(result.catchUpRate / 1024 / 1024).toFixed(1)} MiB/s); cut-over write freeze ${result.freezeMs} ms reported, ` +
        `${result.writerGapMs.toFixed(0)} ms longest gap between two writes a client saw (blue, then green)`,
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(
    `median: write freeze ${median(results.map((r) => r.freezeMs))} ms reported, ${median(results.map((r) => r.writerGapMs)).toFixed(0)} ms seen by a writer; catch-up ${(median(results.map((r) => r.catchUpRate)) / 1024 / 1024).toFixed(1)} MiB/s; attach ${(median(results.map((r) => r.attachMs)) / 1000).toFixed(1)} s`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
