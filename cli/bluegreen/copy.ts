/**
 * The copy of blue into green for `attach`: `pg_dump` at the slot's snapshot streams through the
 * runner into one `psql` transaction on green, which commits only if the runner sends its last line.
 *
 * Why a killed runner can never leave a partial copy: psql reads its script from a pipe only the
 * runner writes. The script opens a transaction and takes green's copy lock first; `COMMIT` is the
 * last thing the runner writes, only after pg_dump exited cleanly. A runner that dies closes the pipe,
 * psql reads end-of-file inside the open transaction and disconnects, and the server rolls it back.
 * A psql that already holds the whole script commits a whole copy: that is the orphan a re-run must
 * not race, and it holds the copy lock until it ends, so a re-run finds it (`copyLockHolders`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors';
import { Sql, Target } from './database';

/** Advisory lock classes: one for a running step (on blue's server), one for a copy in progress (on green). */
export const STEP_LOCK_CLASS = 0x6b636231;
export const COPY_LOCK_CLASS = 0x6b636232;

/** A stable 32-bit key for a name (FNV-1a), as the signed int4 advisory locks take. */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

const LOCKED = 'keycloak-aurora-dr: copy lock held';
const STREAMING_FAILPOINT_BYTES = 256 * 1024;

/** Sessions on green that hold or wait for the copy lock of `key`: copies started by runs that may be dead. */
export async function copyLockHolders(green: Sql, key: number): Promise<number[]> {
  const { rows } = await green.query(
    `SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`,
    [COPY_LOCK_CLASS, key],
  );
  return rows.map((row) => row.pid);
}

export interface CopyOptions {
  readonly pgBinDir: string;
  readonly blue: Target;
  readonly green: Target;
  /** The snapshot the slot exported: the copy is blue exactly at the slot's start. */
  readonly snapshot: string;
  /** Committed in the copy's transaction, after the data: the subscription from the slot. */
  readonly finalSql: string;
  readonly lockKey: number;
  /** The application_name of the copy's sessions, so that a re-run can find them on blue too. */
  readonly applicationName: string;
  readonly reach?: (failpoint: 'attach:copy-locked' | 'attach:streaming' | 'attach:copy-sent') => unknown;
}

/** Copies blue into green and commits `finalSql` with it, or leaves green as it was. */
export async function copyBlueIntoGreen(options: CopyOptions): Promise<void> {
  const psql = tool(options, 'psql', options.green, ['--no-psqlrc', '--quiet', '--output=/dev/null', '-v', 'ON_ERROR_STOP=1']);
  let dump: Tool | undefined;
  try {
    psql.child.stdin!.write(`BEGIN;\nSELECT pg_catalog.pg_advisory_xact_lock(${COPY_LOCK_CLASS}, ${options.lockKey});\n\\echo ${LOCKED}\n`);
    await Promise.race([waitForLine(psql.child, LOCKED), psql.exit.then(() => psql.fail('could not start the copy on green'))]);
    await options.reach?.('attach:copy-locked');

    dump = tool(options, 'pg_dump', options.blue, ['--snapshot', options.snapshot, '--no-publications', '--no-subscriptions', '--no-owner', '--no-privileges']);
    let streamed = 0;
    // Well past the schema and into the rows: the point where a psql that commits at end-of-file would commit half a copy.
    dump.child.stdout!.on('data', (chunk: Buffer) => {
      if (streamed < STREAMING_FAILPOINT_BYTES && (streamed += chunk.length) >= STREAMING_FAILPOINT_BYTES) options.reach?.('attach:streaming');
    });
    dump.child.stdout!.pipe(psql.child.stdin!, { end: false });
    // psql stopping (an error on green) leaves pg_dump blocked on a full pipe: end it.
    void psql.exit.then(() => dump?.child.kill());
    const dumped = await Promise.race([dump.exit, psql.exit.then(() => undefined)]);
    if (dumped === undefined) await psql.fail('green refused the copy');
    if (dumped !== 0) await dump.fail('could not dump blue');

    await new Promise<void>((resolve) => psql.child.stdin!.end(`\n${options.finalSql}\nCOMMIT;\n`, () => resolve()));
    await options.reach?.('attach:copy-sent');
    if ((await psql.exit) !== 0) await psql.fail('green refused the copy');
  } finally {
    for (const running of [psql, dump]) if (running && running.child.exitCode === null) running.child.kill();
  }
}

interface Tool {
  readonly child: ChildProcess;
  /** The exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
  /** Throws the tool's first error line as the step's failure. */
  fail(what: string): Promise<never>;
}

/**
 * pg_dump or psql against `target`. The password goes through PGPASSWORD, never the command line
 * (where `ps` shows it), and the session is named so that a later run can find it.
 */
function tool(options: CopyOptions, binary: 'psql' | 'pg_dump', target: Target, args: string[]): Tool {
  const connection = new URL(target.url);
  const password = decodeURIComponent(connection.password);
  connection.password = '';
  connection.searchParams.set('application_name', options.applicationName);
  const child = spawn(join(options.pgBinDir, binary), [...args, '--dbname', connection.toString()], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(password && { PGPASSWORD: password }) },
  });
  // Writing to a psql that has exited fails with EPIPE; its exit status and stderr say why.
  child.stdin!.on('error', () => undefined);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-16_384)));
  const exit = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      stderr += `${error.message}\n`;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  return {
    child,
    exit,
    fail: async (what) => {
      await exit;
      throw new CliError(`${what}: ${binary} ${firstError(stderr)}`, ExitCode.stopped);
    },
  };
}

/** The line that says what went wrong, without psql's `psql:<stdin>:12:` prefix. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.replace(/^psql:[^:]*:\d+:\s*/, '').trim()).filter(Boolean);
  return lines.find((line) => /\b(ERROR|FATAL|error):/.test(line)) ?? lines[0] ?? 'stopped without a message';
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(line)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
  });
}
