/**
 * Real PostgreSQL servers for tests: each in a temporary folder, on a free loopback port, run as the
 * `postgres` OS user when the tests run as root (the server refuses to run as root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface PostgresServer {
  readonly port: number;
  readonly dataDir: string;
  /** A connection URL for `database` as the superuser `postgres` (trust authentication on loopback). */
  url(database?: string): string;
  /** Stops the server at once, as a crash would (no checkpoint), keeping its data directory. */
  crash(): void;
  stop(): void;
}

/** The folder holding the server binaries: `pg_config --bindir`, else Debian's PostgreSQL 15. */
export function postgresBinDir(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [fromConfig.status === 0 ? fromConfig.stdout.trim() : '', '/usr/lib/postgresql/15/bin'];
  const found = candidates.find((dir) => dir && spawnSync(join(dir, 'postgres'), ['--version']).status === 0);
  if (!found) {
    throw new Error('POSTGRESQL SERVER IS MISSING: no postgres binary (apt-get install postgresql-15); the blue/green tests need real servers.');
  }
  return found;
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const asRoot = userInfo().uid === 0;

/** Runs a server binary as `postgres` when we are root, as ourselves otherwise. */
function runAsPostgres(binary: string, args: string[]): string {
  const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The settings a server needs to publish through logical replication slots. */
const LOGICAL = { wal_level: 'logical', max_replication_slots: '10', max_wal_senders: '10' };

/**
 * A physical clone of `source` (pg_basebackup), started as a server of its own with logical
 * replication on (as an Aurora clone keeps its source's parameter groups), with the LSN it is
 * consistent at (the backup's end, from its manifest): what an Aurora clone is to its source.
 */
export async function clonePostgres(source: PostgresServer): Promise<{ server: PostgresServer; consistentLsn: string }> {
  const bin = postgresBinDir();
  const dataDir = newDataDir();
  runAsPostgres(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres', '-D', dataDir, '--wal-method=stream', '--checkpoint=fast', '--no-sync']);
  const manifest = JSON.parse(readFileSync(join(dataDir, 'backup_manifest'), 'utf8'));
  const consistentLsn: string = manifest['WAL-Ranges'][0]['End-LSN'];
  return { server: await startServer(bin, dataDir, LOGICAL), consistentLsn };
}

/** A streaming standby of `source` (pg_basebackup -R): it replays what the source writes, asynchronously, until promoted. */
export async function standbyOf(source: PostgresServer): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dataDir = newDataDir();
  runAsPostgres(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres', '-D', dataDir, '--wal-method=stream', '--checkpoint=fast', '--no-sync', '-R']);
  return startServer(bin, dataDir, { hot_standby: 'on' });
}

/** Starts a server with the given settings (`-c name=value`); `logical` turns on logical decoding. */
export async function startPostgres(options: { logical?: boolean; settings?: Record<string, string> } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dataDir = newDataDir();
  runAsPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  return startServer(bin, dataDir, {
    ...(options.logical && LOGICAL),
    ...options.settings,
  });
}

/** An empty folder for a data directory, owned by the user the server runs as. */
function newDataDir(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-pg-'));
  chmodSync(dataDir, 0o700);
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dataDir, id('-u'), id('-g'));
  }
  return dataDir;
}

async function startServer(bin: string, dataDir: string, extra: Record<string, string>): Promise<PostgresServer> {
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dataDir,
    fsync: 'off',
    ...extra,
  };
  const serverOptions = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`).join(' ');
  runAsPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-o', serverOptions, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  let crashed = false;
  return {
    port,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    crash: () => {
      if (crashed || stopped) return;
      crashed = true;
      runAsPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      try {
        if (!crashed) runAsPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
