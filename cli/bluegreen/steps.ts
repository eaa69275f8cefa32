/**
 * Blue/green through native logical replication, one idempotent step at a time. Blue is the
 * database Keycloak uses now; green is the copy that takes over at cut-over.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Clock } from '../aws';
import { refuse, CliError, ExitCode } from '../errors';
import { Io, formatDuration, formatTable } from '../output';
import { Sql, databaseOf, scalar, withDatabase } from './database';

/** Names of what the runner creates. Slots and roles are shared by a server's databases, so each run needs its own. */
export interface Names {
  readonly publication: string;
  readonly slot: string;
  readonly subscription: string;
  readonly replicationUser: string;
}

/** Publication, slot and subscription share `name`. */
export function blueGreenNames(name = 'keycloak_bluegreen', replicationUser = 'keycloak_replicator'): Names {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new CliError(`BLUEGREEN_NAME ${JSON.stringify(name)} must be a lowercase SQL name (letters, digits, _)`, ExitCode.usage);
  return { publication: name, slot: name, subscription: name, replicationUser };
}

/** Points where a test can kill the runner, to prove that a re-run completes. */
export type Failpoint = 'attach:after-slot' | 'attach:after-dump' | 'cutover:after-freeze' | 'cutover:after-sequences';

export interface BlueGreenContext {
  readonly blueUrl: string;
  readonly greenUrl: string;
  /** How green reaches blue, when not the host and port of blueUrl (e.g. the writer endpoint inside the VPC). */
  readonly blueHostForGreen?: string;
  readonly replicationPassword?: string;
  readonly names: Names;
  /** Folder of pg_dump and psql. */
  readonly pgBinDir: string;
  readonly io: Io;
  readonly clock: Clock;
  readonly json: boolean;
  /** Called at each failpoint; the CLI kills itself at the one a test asks for. */
  readonly reach?: (failpoint: Failpoint) => void;
}

const USER_TABLES = `
  SELECT n.nspname AS schema, c.relname AS table, c.relreplident AS identity,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_primary_key,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) AS has_identity_index
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
   ORDER BY 1, 2`;

interface CheckRow {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

function report(context: BlueGreenContext, rows: readonly CheckRow[]): void {
  if (context.json) context.io.out(JSON.stringify(rows, null, 2));
  else for (const line of formatTable([['CHECK', 'RESULT', 'DETAIL'], ...rows.map((r) => [r.check, r.ok ? 'ok' : 'FAILED', r.detail])])) context.io.out(line);
}

async function isSuperuserOrRds(sql: Sql): Promise<boolean> {
  return scalar<boolean>(sql, `SELECT rolsuper OR pg_has_role(current_user, 'rds_superuser', 'MEMBER') IS TRUE
                                 FROM pg_roles WHERE rolname = current_user`).catch(() =>
    scalar<boolean>(sql, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user'));
}

/** Tables whose updates and deletes cannot replicate: no primary key and no usable replica identity. */
export async function tablesWithoutReplicaIdentity(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query(USER_TABLES);
  return rows
    .filter((row) => row.identity === 'n' || (row.identity === 'd' && !row.has_primary_key) || (row.identity === 'i' && !row.has_identity_index))
    .map((row) => `${row.schema}.${row.table}`);
}

/** `check`: settings on blue and green, privileges, and tables that cannot replicate updates. */
export async function check(context: BlueGreenContext): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  await withDatabase(context.blueUrl, async (blue) => {
    const walLevel = await scalar<string>(blue, 'SHOW wal_level');
    rows.push({ check: 'blue wal_level', ok: walLevel === 'logical', detail: walLevel === 'logical' ? 'logical' : `${walLevel}: set rds.logical_replication=1 (Aurora) or wal_level=logical, then restart` });
    const slots = await scalar<string>(blue, `SELECT current_setting('max_replication_slots')::int - count(*) FROM pg_replication_slots`);
    rows.push({ check: 'blue free replication slots', ok: Number(slots) >= 1, detail: `${slots} free` });
    const senders = await scalar<string>(blue, `SHOW max_wal_senders`);
    rows.push({ check: 'blue max_wal_senders', ok: Number(senders) >= 2, detail: senders });
    const privileged = await isSuperuserOrRds(blue);
    rows.push({ check: 'blue privileges', ok: privileged, detail: privileged ? 'may create the publication, slot and user' : 'needs superuser or rds_superuser' });
    const missing = await tablesWithoutReplicaIdentity(blue);
    rows.push({
      check: 'blue replica identity',
      ok: missing.length === 0,
      detail: missing.length === 0 ? 'every table can replicate updates' : `no primary key or replica identity, so updates and deletes cannot replicate: ${missing.join(', ')} (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)`,
    });
  });
  await withDatabase(context.greenUrl, async (green) => {
    const workers = await scalar<string>(green, 'SHOW max_logical_replication_workers');
    rows.push({ check: 'green logical replication workers', ok: Number(workers) >= 1, detail: workers });
    const privileged = await isSuperuserOrRds(green);
    rows.push({ check: 'green privileges', ok: privileged, detail: privileged ? 'may create the subscription' : 'needs superuser or rds_superuser' });
  });
  report(context, rows);
  const failed = rows.filter((row) => !row.ok);
  if (failed.length > 0) throw refuse(`check failed: ${failed.map((row) => `${row.check}: ${row.detail}`).join('; ')}`);
  return rows;
}

/**
 * `prepare` on blue: the publication for all tables and a replication user with only what it needs.
 * With `forClone`, also the slot, before green is cloned: the clone then holds everything up to its
 * start LSN, and the slot everything after the slot's creation.
 */
export async function prepare(context: BlueGreenContext, options: { forClone?: boolean } = {}): Promise<void> {
  const { names } = context;
  if (!context.replicationPassword) throw refuse('prepare needs the replication user\'s password in BLUEGREEN_REPLICATION_PASSWORD (it is never printed)');
  await withDatabase(context.blueUrl, async (blue) => {
    const missing = await tablesWithoutReplicaIdentity(blue);
    if (missing.length > 0) throw refuse(`tables without a primary key or replica identity cannot replicate updates: ${missing.join(', ')}`);
    const user = blue.escapeIdentifier(names.replicationUser);
    const password = blue.escapeLiteral(context.replicationPassword!);
    const userExists = await scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)', [names.replicationUser]);
    const onRds = await scalar<boolean>(blue, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')`);
    // The password goes to the server only; it is never logged or printed.
    await blue.query(`${userExists ? 'ALTER' : 'CREATE'} ROLE ${user} WITH LOGIN ${onRds ? '' : 'REPLICATION'} PASSWORD ${password}`);
    if (onRds) await blue.query(`GRANT rds_replication TO ${user}`);
    const { rows: schemas } = await blue.query(`SELECT DISTINCT schema FROM (${USER_TABLES}) t`);
    for (const { schema } of schemas) {
      await blue.query(`GRANT USAGE ON SCHEMA ${blue.escapeIdentifier(schema)} TO ${user}`);
      await blue.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${blue.escapeIdentifier(schema)} TO ${user}`);
    }
    const publicationExists = await scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)', [names.publication]);
    if (!publicationExists) await blue.query(`CREATE PUBLICATION ${blue.escapeIdentifier(names.publication)} FOR ALL TABLES`);
    if (options.forClone && !(await slotExists(blue, names))) {
      await blue.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [names.slot]);
    }
  });
  context.io.out(`prepared blue: publication ${names.publication} for all tables, replication user ${names.replicationUser}${options.forClone ? `, slot ${names.slot}: clone green now` : ''}`);
}

// pg_subscription and pg_replication_slots are shared by every database of a server: look at this one's only.
async function subscriptionExists(green: Sql, names: Names): Promise<boolean> {
  return scalar<boolean>(green, `SELECT EXISTS (SELECT 1 FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
    WHERE s.subname = $1 AND d.datname = current_database())`, [names.subscription]);
}

async function slotExists(blue: Sql, names: Names): Promise<boolean> {
  return scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database())', [names.slot]);
}

/** Our own session on blue must write even when blue's database is frozen read-only (a re-run, or abort). */
async function writableSession(blue: Sql): Promise<void> {
  await blue.query('SET default_transaction_read_only = off');
}

/** The connection string green's subscription uses to reach blue; it holds the replication password. */
function publisherConnection(context: BlueGreenContext): string {
  const blue = new URL(context.blueUrl);
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    `host=${quote(context.blueHostForGreen ?? blue.hostname)}`,
    `port=${quote(blue.port || '5432')}`,
    `dbname=${quote(databaseOf(context.blueUrl))}`,
    `user=${quote(context.names.replicationUser)}`,
    `password=${quote(context.replicationPassword ?? '')}`,
    ...(blue.searchParams.get('sslmode') ? [`sslmode=${quote(blue.searchParams.get('sslmode')!)}`] : []),
  ].join(' ');
}

/**
 * `attach` on a green that is a clone of blue (Aurora's copy-on-write clone, or any physical copy):
 * drop what the clone copied, create the subscription disabled with no initial copy and no new slot,
 * advance its origin to the LSN the clone holds everything up to, and enable it. The LSN is
 * `cloneLsn`, or Aurora's `aurora_volume_logical_start_lsn()` on green.
 */
export async function attachClone(context: BlueGreenContext, options: { cloneLsn?: string }): Promise<void> {
  const { names } = context;
  if (!context.replicationPassword) throw refuse('attach needs the replication user\'s password in BLUEGREEN_REPLICATION_PASSWORD');
  await withDatabase(context.blueUrl, async (blue) => {
    if (!(await slotExists(blue, names))) throw refuse(`blue has no slot ${names.slot}: run "prepare --for-clone" before cloning green`);
  });
  await withDatabase(context.greenUrl, async (green) => {
    const subscription = green.escapeIdentifier(names.subscription);
    if (!(await subscriptionExists(green, names))) {
      const cloneLsn = options.cloneLsn ?? (await scalar<string>(green, 'SELECT aurora_volume_logical_start_lsn()').catch(() => {
        throw refuse('green has no aurora_volume_logical_start_lsn(); give the LSN the clone is consistent at with --clone-lsn');
      }));
      // The clone copied blue's publication (and, on Aurora, any subscriptions): green must not publish or subscribe as blue did.
      await green.query(`DROP PUBLICATION IF EXISTS ${green.escapeIdentifier(names.publication)}`);
      await green.query('BEGIN');
      await green.query(`CREATE SUBSCRIPTION ${subscription} CONNECTION ${green.escapeLiteral(publisherConnection(context))}
        PUBLICATION ${green.escapeIdentifier(names.publication)}
        WITH (create_slot = false, slot_name = ${green.escapeLiteral(names.slot)}, copy_data = false, enabled = false)`);
      await green.query(`SELECT pg_replication_origin_advance('pg_' || oid, $1::pg_lsn) FROM pg_subscription
        WHERE subname = $2 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, [cloneLsn, names.subscription]);
      await green.query('COMMIT');
      context.io.err(`green's subscription starts after ${cloneLsn}`);
    }
    await green.query(`ALTER SUBSCRIPTION ${subscription} ENABLE`);
  });
  context.io.out(`attached the clone: subscription ${names.subscription} replicates from slot ${names.slot}`);
}

/**
 * `attach` on green (plain PostgreSQL): a slot on blue with an exported snapshot, a copy of blue at
 * exactly that snapshot, and a subscription that starts where the copy ends. The copy and the
 * subscription are committed on green in one transaction, so a crash leaves green untouched or attached.
 */
export async function attach(context: BlueGreenContext): Promise<void> {
  const { names } = context;
  if (!context.replicationPassword) throw refuse('attach needs the replication user\'s password in BLUEGREEN_REPLICATION_PASSWORD');
  const attached = await withDatabase(context.greenUrl, (green) => subscriptionExists(green, names));
  if (!attached) {
    await withDatabase(context.blueUrl, async (blue) => {
      if (!(await scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)', [names.publication]))) {
        throw refuse(`blue has no publication ${names.publication}: run prepare first`);
      }
      // A slot without a subscription is left by an attach that died before committing on green: nothing used it.
      if (await slotExists(blue, names)) await blue.query('SELECT pg_drop_replication_slot($1)', [names.slot]);
    });
    await withDatabase(context.blueUrl, async (replication) => {
      const { rows } = await replication.query(`CREATE_REPLICATION_SLOT ${replication.escapeIdentifier(names.slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
      const { consistent_point: lsn, snapshot_name: snapshot } = rows[0];
      context.reach?.('attach:after-slot');
      const dump = await runTool(join(context.pgBinDir, 'pg_dump'), context.blueUrl, ['--snapshot', snapshot, '--no-publications', '--no-subscriptions', '--no-owner', '--no-privileges']);
      context.reach?.('attach:after-dump');
      const subscription = `CREATE SUBSCRIPTION ${replication.escapeIdentifier(names.subscription)}
        CONNECTION ${replication.escapeLiteral(publisherConnection(context))}
        PUBLICATION ${replication.escapeIdentifier(names.publication)}
        WITH (create_slot = false, slot_name = ${replication.escapeLiteral(names.slot)}, copy_data = false, enabled = false);`;
      await runTool(join(context.pgBinDir, 'psql'), context.greenUrl, ['--no-psqlrc', '--quiet', '--single-transaction', '-v', 'ON_ERROR_STOP=1'], `${dump}\n${subscription}\n`);
      context.io.err(`copied blue at ${lsn} into green`);
    }, { replication: 'database' } as never);
  }
  await withDatabase(context.greenUrl, (green) => green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} ENABLE`));
  context.io.out(attached ? `green was already attached; subscription ${names.subscription} enabled` : `attached green: subscription ${names.subscription} replicates from slot ${names.slot}`);
}

export interface Lag {
  readonly slot: string;
  readonly active: boolean;
  readonly lagBytes: number;
  /** Seconds since green last confirmed a position, as green reports it. */
  readonly secondsSinceConfirmed: number | null;
}

/** `lag`: bytes of WAL blue holds for green, and time since green last confirmed. */
export async function lag(context: BlueGreenContext, print = true): Promise<Lag> {
  const { names } = context;
  const fromBlue = await withDatabase(context.blueUrl, async (blue) => {
    const { rows } = await blue.query(
      'SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()',
      [names.slot],
    );
    if (rows.length === 0) throw refuse(`blue has no replication slot ${names.slot}: attach first`);
    return { active: Boolean(rows[0].active), lagBytes: Number(rows[0].lag) };
  });
  const secondsSinceConfirmed = await withDatabase(context.greenUrl, (green) =>
    scalar<string | null>(green, 'SELECT extract(epoch FROM now() - latest_end_time) FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL', [names.subscription]));
  const result: Lag = { slot: names.slot, ...fromBlue, secondsSinceConfirmed: secondsSinceConfirmed === null || secondsSinceConfirmed === undefined ? null : Number(secondsSinceConfirmed) };
  if (print) {
    if (context.json) context.io.out(JSON.stringify(result));
    else context.io.out(`slot ${result.slot}: ${result.lagBytes} bytes behind, ${result.active ? 'active' : 'NOT active'}, last confirmed ${result.secondsSinceConfirmed === null ? 'never' : `${result.secondsSinceConfirmed.toFixed(1)} s ago`}`);
  }
  return result;
}

export interface CutoverResult {
  readonly writeFreezeMs: number;
  readonly sequencesCopied: number;
  readonly tablesCompared: number;
}

/**
 * `cutover`: refuses while other sessions use blue (listed; --terminate ends them). Stops writes on
 * blue, waits until green has confirmed all of blue's WAL, copies every sequence, compares row
 * counts, drops the subscription, and reports how long writes were frozen.
 */
export async function cutover(context: BlueGreenContext, options: { terminate: boolean; timeoutMs: number }): Promise<CutoverResult> {
  const { names, clock } = context;
  const database = databaseOf(context.blueUrl);
  return withDatabase(context.blueUrl, async (blue) => {
    await writableSession(blue);
    const attached = await withDatabase(context.greenUrl, (green) => subscriptionExists(green, names));
    if (!attached) {
      const frozen = await blueIsFrozen(blue, database);
      throw frozen
        ? refuse(`already cut over: green has no subscription ${names.subscription} and blue is read-only; point traffic at green`)
        : refuse(`green has no subscription ${names.subscription}: attach first`);
    }
    const { rows: sessions } = await blue.query(
      `SELECT pid, usename, application_name, host(client_addr) AS client_addr, state FROM pg_stat_activity
        WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY pid`,
      [database],
    );
    if (sessions.length > 0 && !options.terminate) {
      throw refuse(`sessions still use blue; stop them or add --terminate: ${sessions.map((s) => `pid ${s.pid} ${s.usename}@${s.client_addr ?? 'local'} (${s.application_name || 'no name'}, ${s.state})`).join('; ')}`);
    }
    const frozenAt = clock.now();
    await blue.query(`ALTER DATABASE ${blue.escapeIdentifier(database)} SET default_transaction_read_only = on`);
    for (const session of sessions) await blue.query('SELECT pg_terminate_backend($1)', [session.pid]);
    context.io.err(`blue is read-only; ${sessions.length} session(s) ended`);
    context.reach?.('cutover:after-freeze');

    const finalLsn = await scalar<string>(blue, 'SELECT pg_current_wal_lsn()');
    for (;;) {
      const caughtUp = await scalar<boolean>(blue, 'SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2 AND database = current_database()', [finalLsn, names.slot]);
      if (caughtUp) break;
      if (clock.now() - frozenAt > options.timeoutMs) {
        throw new CliError(`green did not confirm blue's WAL up to ${finalLsn} within ${formatDuration(options.timeoutMs)}; blue stays read-only (run abort to give it back)`, ExitCode.timeout);
      }
      await clock.sleep(100);
    }

    const result = await withDatabase(context.greenUrl, async (green) => {
      const { rows: sequences } = await blue.query('SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL');
      for (const { schemaname, sequencename, last_value: value } of sequences) {
        // Never move a green sequence backwards: a re-run after green handed out values must not reissue them.
        await green.query(`SELECT setval($1::regclass, greatest($2::bigint, (SELECT coalesce(last_value, $2::bigint) FROM pg_sequences WHERE schemaname = $3 AND sequencename = $4)), true)`,
          [`${green.escapeIdentifier(schemaname)}.${green.escapeIdentifier(sequencename)}`, value, schemaname, sequencename]);
      }
      context.reach?.('cutover:after-sequences');
      const { rows: tables } = await blue.query('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2', [names.publication]);
      const mismatches: string[] = [];
      for (const { schemaname, tablename } of tables) {
        const name = `${blue.escapeIdentifier(schemaname)}.${blue.escapeIdentifier(tablename)}`;
        const [onBlue, onGreen] = await Promise.all([scalar<string>(blue, `SELECT count(*) FROM ${name}`), scalar<string>(green, `SELECT count(*) FROM ${name}`)]);
        if (onBlue !== onGreen) mismatches.push(`${schemaname}.${tablename}: blue ${onBlue}, green ${onGreen}`);
      }
      if (mismatches.length > 0) throw refuse(`row counts differ, so the subscription is kept and blue stays read-only: ${mismatches.join('; ')}`);
      await green.query(`DROP SUBSCRIPTION ${green.escapeIdentifier(names.subscription)}`);
      return { writeFreezeMs: clock.now() - frozenAt, sequencesCopied: sequences.length, tablesCompared: tables.length };
    });
    if (context.json) context.io.out(JSON.stringify(result));
    else {
      context.io.out(`cut over: writes were frozen for ${result.writeFreezeMs} ms; ${result.sequencesCopied} sequences copied, ${result.tablesCompared} tables match`);
      context.io.out('Now point Keycloak at green: re-point the writer DNS name (or KC_DB_URL) to green\'s writer endpoint and restart or let the pool reconnect.');
    }
    return result;
  });
}

async function blueIsFrozen(blue: Sql, database: string): Promise<boolean> {
  return scalar<boolean>(blue, `SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
    WHERE d.datname = $1 AND s.setrole = 0 AND 'default_transaction_read_only=on' = ANY (s.setconfig))`, [database]);
}

/** `abort` before cut-over: removes subscription, slot, publication and user, and gives blue its writes back. */
export async function abort(context: BlueGreenContext): Promise<void> {
  const { names } = context;
  const database = databaseOf(context.blueUrl);
  await withDatabase(context.blueUrl, async (blue) => {
    await writableSession(blue);
    const attached = await withDatabase(context.greenUrl, async (green) => {
      const exists = await subscriptionExists(green, names);
      if (exists) {
        await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} DISABLE`);
        await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} SET (slot_name = NONE)`);
        await green.query(`DROP SUBSCRIPTION ${green.escapeIdentifier(names.subscription)}`);
      }
      return exists;
    });
    if (!attached && (await blueIsFrozen(blue, database)) && !(await slotExists(blue, names))) {
      throw refuse('cut-over has completed (green has no subscription and blue is read-only); abort would give blue its writes back beside green');
    }
    if (await slotExists(blue, names)) {
      await blue.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [names.slot]);
      await blue.query('SELECT pg_drop_replication_slot($1)', [names.slot]);
    }
    await blue.query(`DROP PUBLICATION IF EXISTS ${blue.escapeIdentifier(names.publication)}`);
    if (await scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)', [names.replicationUser])) {
      await blue.query(`DROP OWNED BY ${blue.escapeIdentifier(names.replicationUser)}`);
      await blue.query(`DROP ROLE ${blue.escapeIdentifier(names.replicationUser)}`);
    }
    await blue.query(`ALTER DATABASE ${blue.escapeIdentifier(database)} RESET default_transaction_read_only`);
  });
  context.io.out(`aborted: subscription, slot ${names.slot}, publication ${names.publication} and user ${names.replicationUser} removed; blue takes writes`);
}

/**
 * Runs pg_dump or psql against `url`. The password goes through PGPASSWORD, never the command line
 * (where `ps` shows it); output is returned and stdin fed without a shell.
 */
function runTool(binary: string, url: string, args: string[], input?: string): Promise<string> {
  const connection = new URL(url);
  const password = decodeURIComponent(connection.password);
  connection.password = '';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args, '--dbname', connection.toString()], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...(password && { PGPASSWORD: password }) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CliError(`${binary.split('/').pop()} failed (${code}): ${err.trim()}`, ExitCode.refused))));
    child.stdin.end(input ?? '');
  });
}
