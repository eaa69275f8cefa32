/**
 * Blue/green through native logical replication, one idempotent step at a time. Blue is the
 * database Keycloak uses now; green is the copy that takes over at cut-over. The README says why no
 * write blue acknowledged can be lost, whatever instant a step is killed at.
 */
import { Clock, waitFor } from '../aws';
import { refuse, CliError, ExitCode } from '../errors';
import { Io, formatTable } from '../output';
import {
  LeafTable, blockingTransactions, columnDrift, describeSessions, endSessions, leafTables, materializedViews, otherSessions, readSequence, replicationProblems,
  sequences, tableColumns, userObjects,
} from './catalog';
import { STEP_LOCK_CLASS, copyBlueIntoGreen, copyLockHolders, lockKey } from './copy';
import { Sql, Target, connect, databaseOf, scalar, sqlStateOf, withDatabase, withDatabaseName } from './database';
import { CloneStart, cloneStart } from './clone-start';
import { Marker, formatCloneStart, formatMarker, formatRolledBack, parseMarker, recordedCloneStart, rollbackWindowOpen, rolledBackAt } from './marker';
import { sequenceTarget } from './sequences';

/** Names of what the runner creates. Slots and roles are shared by a server's databases, so each run needs its own. */
export interface Names {
  readonly publication: string;
  readonly slot: string;
  readonly subscription: string;
  readonly replicationUser: string;
  /** Publication and slot on green, and subscription on blue, of the rollback window: green's writes back to blue. */
  readonly back: string;
  /** The schema on blue holding the fence that refuses every client write during the rollback window. */
  readonly fence: string;
}

/** Publication, slot and subscription share `name`; the rollback window's add `_back`, its fence `_fence`. */
export function blueGreenNames(name = 'keycloak_bluegreen', replicationUser = 'keycloak_replicator'): Names {
  if (!/^[a-z_][a-z0-9_]{0,56}$/.test(name)) throw new CliError(`BLUEGREEN_NAME ${JSON.stringify(name)} must be a lowercase SQL name (letters, digits, _) of at most 57 characters`, ExitCode.usage);
  return { publication: name, slot: name, subscription: name, replicationUser, back: `${name}_back`, fence: `${name}_fence` };
}

/** Which way a subscription carries writes: blue to green until the cut-over, green to blue in the rollback window. */
interface Direction {
  readonly from: 'blue' | 'green';
  readonly to: 'blue' | 'green';
  /** The slot on the publisher's server. */
  readonly slot: string;
  /** The subscription in the subscriber's database. */
  readonly subscription: string;
}

const forward = (names: Names): Direction => ({ from: 'blue', to: 'green', slot: names.slot, subscription: names.subscription });
const backward = (names: Names): Direction => ({ from: 'green', to: 'blue', slot: names.back, subscription: names.back });

/** Points where a test can kill the runner, to prove that a re-run completes from there. */
export type Failpoint =
  | 'attach:after-slot' | 'attach:copy-locked' | 'attach:streaming' | 'attach:copy-sent' | 'attach:after-copy'
  | 'cutover:after-freeze' | 'cutover:after-lock' | 'cutover:after-sequences' | 'cutover:after-disallow' | 'cutover:after-mark'
  | 'abort:after-subscription'
  | 'rollback:after-freeze' | 'rollback:after-lock' | 'rollback:after-sequences' | 'rollback:after-close' | 'rollback:after-green' | 'rollback:after-mark';

export interface BlueGreenContext {
  readonly blueUrl: string;
  readonly greenUrl: string;
  /** A database on blue's server that stays open when blue's own is closed at cut-over. */
  readonly adminDatabase: string;
  /** How green reaches blue, when not the host and port of blueUrl (e.g. the writer endpoint inside the VPC). */
  readonly blueHostForGreen?: string;
  /** How blue reaches green in the rollback window, when not the host and port of greenUrl. */
  readonly greenHostForBlue?: string;
  readonly replicationPassword?: string;
  readonly names: Names;
  /** Folder of pg_dump and psql. */
  readonly pgBinDir: string;
  readonly io: Io;
  readonly clock: Clock;
  readonly json: boolean;
  /** Called at each failpoint (and awaited); the CLI kills itself at the one a test asks for. */
  readonly reach?: (failpoint: Failpoint) => unknown;
}

/** How long a step waits for another step's lock, for locks on blue's tables, and for ended sessions to exit. */
const WAIT_MS = 30_000;

const targets = (context: BlueGreenContext) => ({
  blue: { side: 'blue', url: context.blueUrl } satisfies Target,
  admin: { side: `blue's database ${context.adminDatabase}`, url: withDatabaseName(context.blueUrl, context.adminDatabase) } satisfies Target,
  green: { side: 'green', url: context.greenUrl } satisfies Target,
  greenAdmin: { side: `green's database ${context.adminDatabase}`, url: withDatabaseName(context.greenUrl, context.adminDatabase) } satisfies Target,
});

const copyApplicationName = (names: Names) => `keycloak-aurora-dr bluegreen copy ${names.slot}`;

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
  return scalar<boolean>(sql, `SELECT rolsuper OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'rds_superuser' AND pg_has_role(current_user, r.oid, 'MEMBER'))
                                 FROM pg_roles WHERE rolname = current_user`);
}

const problemDetail = (problem: { problem: string; objects: readonly string[] }) => `${problem.problem}: ${problem.objects.join('; ')}`;

/** `check`: settings, privileges, and everything on blue that replication would lose or that would make blue refuse writes. */
export async function check(context: BlueGreenContext): Promise<CheckRow[]> {
  const { blue, green } = targets(context);
  const rows: CheckRow[] = [];
  await withDatabase(blue, async (sql) => {
    await checkBlue(context, sql, rows);
    await withDatabase(green, async (greenSql) => {
      // Once green holds tables (after attach, or a clone), both sides must have the same ones, column for column.
      if ((await leafTables(greenSql)).length > 0) {
        const drift = await schemaDrift(sql, greenSql, { columns: true });
        rows.push({ check: 'blue and green schemas', ok: drift.length === 0, detail: drift.length === 0 ? 'the same tables, columns and types' : `${drift.join('; ')} (DDL is not replicated: run it on both sides)` });
      }
      await checkGreen(context, greenSql, rows);
    });
  });
  report(context, rows);
  const failed = rows.filter((row) => !row.ok);
  if (failed.length > 0) throw refuse(`check failed: ${failed.map((row) => `${row.check}: ${row.detail}`).join('; ')}`);
  return rows;
}

/** `check`'s rows for blue: what publishing needs, and what replication would lose or a freeze could not wait out. */
async function checkBlue(context: BlueGreenContext, sql: Sql, rows: CheckRow[]): Promise<void> {
  const walLevel = await scalar<string>(sql, 'SHOW wal_level');
  rows.push({ check: 'blue wal_level', ok: walLevel === 'logical', detail: walLevel === 'logical' ? 'logical' : `${walLevel}: set rds.logical_replication=1 (Aurora) or wal_level=logical, then restart` });
  const slots = await scalar<string>(sql, `SELECT current_setting('max_replication_slots')::int - count(*) FROM pg_replication_slots`);
  rows.push({ check: 'blue free replication slots', ok: Number(slots) >= 1, detail: `${slots} free` });
  const senders = await scalar<string>(sql, `SHOW max_wal_senders`);
  rows.push({ check: 'blue max_wal_senders', ok: Number(senders) >= 2, detail: senders });
  const privileged = await isSuperuserOrRds(sql);
  rows.push({ check: 'blue privileges', ok: privileged, detail: privileged ? 'may create the publication, slot and user' : 'needs superuser or rds_superuser' });
  const problems = await replicationProblems(sql);
  const found = (name: string) => problems.find((problem) => problem.check === name);
  for (const [name, fine] of [
    ['blue replica identity', 'every table can replicate updates and deletes'],
    ['blue unlogged tables', 'none'],
    ['blue large objects', 'none'],
    ['blue sequences readable', 'every sequence'],
  ] as const) {
    const problem = found(name);
    rows.push({ check: name, ok: !problem, detail: problem ? problemDetail(problem) : fine });
  }
  const blocking = await blockingTransactions(sql, databaseOf(context.blueUrl), 60, [sql.pid]);
  rows.push({ check: 'blue transactions a freeze cannot wait out', ok: blocking.length === 0, detail: blocking.length === 0 ? 'none prepared, none open over 60 s' : blocking.join('; ') });
  const views = await materializedViews(sql);
  rows.push({
    check: 'blue materialized views',
    ok: true,
    detail: views.length === 0 ? 'none' : `copied as they are at attach and not kept current: REFRESH MATERIALIZED VIEW on green after the cut-over: ${views.join(', ')}`,
  });
}

/** `check`'s rows for green: what subscribing needs, and what publishing the rollback window's way back needs. */
async function checkGreen(context: BlueGreenContext, sql: Sql, rows: CheckRow[]): Promise<void> {
  const wayBack = await wayBackProblems(sql, context.names);
  rows.push({ check: 'green publishes for the rollback window', ok: wayBack.length === 0, detail: wayBack.length === 0 ? 'wal_level logical, a free replication slot' : `${wayBack.join('; ')} (or cut over with --no-rollback)` });
  const workers = await scalar<string>(sql, 'SHOW max_logical_replication_workers');
  rows.push({ check: 'green logical replication workers', ok: Number(workers) >= 1, detail: workers });
  const privileged = await isSuperuserOrRds(sql);
  rows.push({ check: 'green privileges', ok: privileged, detail: privileged ? 'may create the subscription' : 'needs superuser or rds_superuser' });
}

// --- state kept on blue's server ---------------------------------------------------------------

interface BlueDatabaseState {
  readonly marker?: Marker;
  /** The comment as it is, marker or not. */
  readonly comment: string | null;
  readonly acceptsConnections: boolean;
}

/** A database's comment and whether it takes connections, read from its server's maintenance database. */
async function databaseState(admin: Sql, side: string, database: string): Promise<{ comment: string | null; acceptsConnections: boolean }> {
  const { rows } = await admin.query(`SELECT datallowconn, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`, [database]);
  if (rows.length === 0) throw refuse(`${side}'s server has no database ${JSON.stringify(database)}`);
  return { comment: rows[0].comment, acceptsConnections: rows[0].datallowconn };
}

async function blueDatabaseState(admin: Sql, database: string, names: Names): Promise<BlueDatabaseState> {
  const { comment, acceptsConnections } = await databaseState(admin, 'blue', database);
  const marker = parseMarker(comment);
  if (marker && marker.name !== names.publication) {
    throw refuse(`blue is in a blue/green run named ${marker.name} (${comment}); set BLUEGREEN_NAME=${marker.name} to continue it`);
  }
  return { marker, comment, acceptsConnections };
}

async function setMarker(admin: Sql, database: string, marker: Marker | undefined): Promise<void> {
  await admin.query(`COMMENT ON DATABASE ${admin.escapeIdentifier(database)} IS ${marker ? admin.escapeLiteral(formatMarker(marker)) : 'NULL'}`);
}

const serverNow = (sql: Sql) => scalar<string>(sql, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const millisecondsBetween = async (sql: Sql, from: string, to: string) =>
  Math.round(Number(await scalar<string>(sql, 'SELECT extract(epoch FROM $2::timestamptz - $1::timestamptz) * 1000', [from, to])));

/** Refuses the steps that must not run on a blue that a cut-over froze or retired. */
function refuseIfCutOver(state: BlueDatabaseState, step: string): void {
  if (state.marker?.state === 'cut-over') throw refuse(`blue was cut over to green at ${state.marker.cutOverAt} and is retired; ${step} would start a new run from the old database`);
  if (state.marker?.state === 'frozen') throw refuse(`a cut-over froze blue at ${state.marker.frozenSince} and has not completed: run cutover again to complete it, or abort`);
  if (state.marker?.state === 'rolling-back') throw refuse(`a rollback froze green at ${state.marker.rollingBackSince} and has not completed: run rollback again to complete it, or end-rollback to stay on green`);
}

async function slotOn(admin: Sql, slot: string, database: string): Promise<{ active: boolean; activePid: number | null } | undefined> {
  const { rows } = await admin.query('SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1 AND database = $2', [slot, database]);
  return rows[0] && { active: rows[0].active, activePid: rows[0].active_pid };
}

// pg_subscription is shared by every database of a server: look at this one's only.
async function subscriptionOn(sql: Sql, subscription: string): Promise<{ enabled: boolean; synchronousCommit: string } | undefined> {
  const { rows } = await sql.query(`SELECT s.subenabled, s.subsynccommit FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
    WHERE s.subname = $1 AND d.datname = current_database()`, [subscription]);
  return rows[0] && { enabled: rows[0].subenabled, synchronousCommit: rows[0].subsynccommit };
}

/** What blue and green hold now, for the line that follows every failure. */
export async function describeState(context: BlueGreenContext): Promise<string> {
  const { names } = context;
  const { admin, green } = targets(context);
  const database = databaseOf(context.blueUrl);
  const onBlue = await withDatabase(admin, async (sql) => {
    const state = await blueDatabaseState(sql, database, names).catch(() => undefined);
    const slot = await slotOn(sql, names.slot, database);
    const marker = state?.marker;
    const writes = !marker ? 'blue takes writes'
      : marker.state === 'frozen' ? `blue is read-only since ${marker.frozenSince} (cut-over not complete)${state.acceptsConnections ? '' : ', closed to new connections'}`
        : marker.state === 'rolling-back' ? `blue was cut over at ${marker.cutOverAt}; a rollback froze green at ${marker.rollingBackSince} and has not completed`
          : marker.rollbackOpen ? `blue was cut over at ${marker.cutOverAt} and is fenced, receiving green's writes (rollback window open)`
            : `blue was cut over at ${marker.cutOverAt} and accepts no connections`;
    return `${writes}; ${slot ? `slot ${names.slot} ${slot.active ? 'in use' : 'unused'}` : 'no slot'}`;
  }).catch((error: Error) => `blue unknown (${error.message})`);
  const onGreen = await withDatabase(green, async (sql) => {
    const subscription = await subscriptionOn(sql, names.subscription);
    const objects = await userObjects(sql);
    return `green has ${subscription ? `subscription ${names.subscription} (${subscription.enabled ? 'enabled' : 'disabled'})` : 'no subscription'} and ${objects.length} object(s)`;
  }).catch((error: Error) => `green unknown (${error.message})`);
  return `${onBlue}; ${onGreen}`;
}

/**
 * Runs a step holding blue's step lock, on a connection to blue's maintenance database (which stays
 * open when blue's own database is closed). A run killed at any instant loses its connection and so
 * the lock; a second run at the same time waits for it, then refuses and names the holder.
 * A failure part-way is reported with the state it left.
 */
async function step<T>(context: BlueGreenContext, work: (admin: Sql, database: string) => Promise<T>): Promise<T> {
  const database = databaseOf(context.blueUrl);
  const key = lockKey(`${database}/${context.names.slot}`);
  try {
    return await withDatabase(targets(context).admin, async (admin) => {
      await admin.query(`SET lock_timeout = ${WAIT_MS}`);
      try {
        await admin.query('SELECT pg_advisory_lock($1, $2)', [STEP_LOCK_CLASS, key]);
      } catch (error) {
        if (sqlStateOf(error) !== '55P03') throw error;
        const { rows } = await admin.query(`SELECT a.pid, a.application_name, host(a.client_addr) AS client, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.granted`, [STEP_LOCK_CLASS, key]);
        const holder = rows[0] ? `pid ${rows[0].pid} from ${rows[0].client ?? 'local'} since ${new Date(rows[0].backend_start).toISOString()}` : 'a session that has just ended';
        throw refuse(`another bluegreen step is running for ${database} (${holder}); wait for it, or end it with SELECT pg_terminate_backend(<pid>) on blue`);
      }
      await admin.query('RESET lock_timeout');
      return work(admin, database);
    });
  } catch (error) {
    if (error instanceof CliError && (error.exitCode === ExitCode.stopped || error.exitCode === ExitCode.timeout)) {
      throw new CliError(redact(`${error.message}. Now: ${await describeState(context)}`, context), error.exitCode);
    }
    throw error;
  }
}

function redact(message: string, context: BlueGreenContext): string {
  const secrets = [context.replicationPassword, new URL(context.blueUrl).password, new URL(context.greenUrl).password].filter((s): s is string => Boolean(s));
  return secrets.reduce((text, secret) => text.split(secret).join('***').split(decodeURIComponent(secret)).join('***'), message);
}

/** Our own session on blue must write even when blue's database is frozen read-only (a re-run, or abort). */
async function writableSession(blue: Sql): Promise<void> {
  await blue.query('SET default_transaction_read_only = off');
}

/** Opens a database to new connections, or closes it to every one (superusers' and replication workers' too). */
async function allowConnections(sql: Sql, database: string, allow: boolean): Promise<void> {
  await sql.query(`ALTER DATABASE ${sql.escapeIdentifier(database)} ALLOW_CONNECTIONS ${allow}`);
}

/** Makes new sessions of a database start read-only (the freeze), or takes that default away again. */
async function freezeNewSessions(sql: Sql, database: string, frozen: boolean): Promise<void> {
  await sql.query(`ALTER DATABASE ${sql.escapeIdentifier(database)} ${frozen ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
}

/** Ends every session of `database` but those in `except`, waits until they are gone, and says how many there were. */
async function endOtherSessions(context: BlueGreenContext, admin: Sql, database: string, except: readonly number[], what: string): Promise<number> {
  const sessions = await otherSessions(admin, database, except);
  await endSessions(admin, sessions.map((s) => s.pid), context.clock, WAIT_MS, what);
  return sessions.length;
}

/**
 * Statements with the replication password (CREATE SUBSCRIPTION … CONNECTION) must not reach green's
 * server log; where the settings may not be changed (not a superuser), the server's own apply.
 */
const QUIET_SECRETS = ['log_statement = none', 'log_min_error_statement = panic']
  .map((setting) => `DO $$ BEGIN SET LOCAL ${setting}; EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;`).join('\n');

/** The connection string a subscription uses to reach its publisher; it holds the replication password. */
function publisherConnection(context: BlueGreenContext, direction: Direction): string {
  const [url, hostOverride] = direction.from === 'blue' ? [context.blueUrl, context.blueHostForGreen] : [context.greenUrl, context.greenHostForBlue];
  const publisher = new URL(url);
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    `host=${quote(hostOverride ?? publisher.hostname)}`,
    `port=${quote(publisher.port || '5432')}`,
    `dbname=${quote(databaseOf(url))}`,
    `user=${quote(context.names.replicationUser)}`,
    `password=${quote(context.replicationPassword ?? '')}`,
    ...(publisher.searchParams.get('sslmode') ? [`sslmode=${quote(publisher.searchParams.get('sslmode')!)}`] : []),
  ].join(' ');
}

/**
 * The subscription from blue's slot. `synchronous_commit = on`: green flushes each applied commit at
 * once, so it confirms blue's last position within milliseconds of applying it at cut-over, not after
 * green's WAL writer gets round to it (about 0.5 s of the freeze otherwise).
 */
function createSubscriptionSql(context: BlueGreenContext, subscriber: Sql, enabled: boolean, direction = forward(context.names)): string {
  // The rollback window's publication on green is named as its slot; the forward one as the run.
  const publication = direction.from === 'blue' ? context.names.publication : direction.slot;
  return `CREATE SUBSCRIPTION ${subscriber.escapeIdentifier(direction.subscription)} CONNECTION ${subscriber.escapeLiteral(publisherConnection(context, direction))}
    PUBLICATION ${subscriber.escapeIdentifier(publication)}
    WITH (create_slot = false, slot_name = ${subscriber.escapeLiteral(direction.slot)}, copy_data = false, enabled = ${enabled}, synchronous_commit = 'on')`;
}

function requirePassword(context: BlueGreenContext, stepName: string): void {
  if (!context.replicationPassword) throw refuse(`${stepName} needs the replication user's password in BLUEGREEN_REPLICATION_PASSWORD (it is never printed)`);
}

/** The replication user on a publisher, with only what it needs. The password goes to the server only; it is never logged or printed. */
async function ensureReplicationUser(context: BlueGreenContext, publisher: Sql): Promise<void> {
  const { names } = context;
  const user = publisher.escapeIdentifier(names.replicationUser);
  const userExists = await scalar<boolean>(publisher, 'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)', [names.replicationUser]);
  const onRds = await scalar<boolean>(publisher, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')`);
  await publisher.query(QUIET_SECRETS);
  await publisher.query(`${userExists ? 'ALTER' : 'CREATE'} ROLE ${user} WITH LOGIN ${onRds ? '' : 'REPLICATION'} PASSWORD ${publisher.escapeLiteral(context.replicationPassword!)}`);
  if (onRds) await publisher.query(`GRANT rds_replication TO ${user}`);
  for (const schema of new Set((await leafTables(publisher)).map((table) => table.schema))) {
    await publisher.query(`GRANT USAGE ON SCHEMA ${schema} TO ${user}`);
    await publisher.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${user}`);
  }
}

/**
 * `prepare` on blue: the publication for all tables and a replication user with only what it needs,
 * in one transaction after the same checks as `check`, so blue never publishes a table whose updates
 * it would then refuse. With `forClone`, also the slot, before green is cloned: the clone then holds
 * everything up to its start LSN, and the slot everything after the slot's creation.
 */
export async function prepare(context: BlueGreenContext, options: { forClone?: boolean } = {}): Promise<void> {
  const { names } = context;
  requirePassword(context, 'prepare');
  await step(context, async (admin, database) => {
    refuseIfCutOver(await blueDatabaseState(admin, database, names), 'prepare');
    await withDatabase(targets(context).blue, async (blue) => {
      await blue.query('BEGIN');
      try {
        const problems = await replicationProblems(blue);
        if (problems.length > 0) throw refuse(`blue has what logical replication would lose or refuse; nothing was changed: ${problems.map(problemDetail).join('; ')}`);
        await ensureReplicationUser(context, blue);
        const publication = (await blue.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [names.publication])).rows[0];
        if (publication && !publication.puballtables) throw refuse(`blue has a publication ${names.publication} that does not cover all tables; drop it or choose another BLUEGREEN_NAME`);
        if (!publication) await blue.query(`CREATE PUBLICATION ${blue.escapeIdentifier(names.publication)} FOR ALL TABLES`);
        await blue.query('COMMIT');
      } catch (error) {
        await blue.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      if (options.forClone && !(await slotOn(admin, names.slot, database))) {
        await blue.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [names.slot]);
      }
    });
  });
  context.io.out(`prepared blue: publication ${names.publication} for all tables, replication user ${names.replicationUser}${options.forClone ? `, slot ${names.slot}: clone green now` : ''}`);
}

/**
 * Ends what an earlier, killed run may have left running: a psql still holding green's copy lock (it
 * could commit a copy against a slot this run replaces) and pg_dump sessions on blue. Waits until they
 * have exited, so that what this run then reads is final.
 */
async function endOrphanedCopies(context: BlueGreenContext, admin: Sql, green: Sql, database: string): Promise<void> {
  const key = lockKey(context.names.subscription);
  const onGreen = [...new Set([...(await copyLockHolders(green, key)), ...(await otherSessions(green, databaseOf(context.greenUrl), [green.pid]))
    .filter((s) => s.application_name === copyApplicationName(context.names)).map((s) => s.pid)])];
  const onBlue = (await otherSessions(admin, database, [])).filter((s) => s.application_name === copyApplicationName(context.names)).map((s) => s.pid);
  if (onGreen.length + onBlue.length === 0) return;
  await endSessions(green, onGreen, context.clock, WAIT_MS, 'ending the copy an earlier run left on green');
  await endSessions(admin, onBlue, context.clock, WAIT_MS, 'ending the dump an earlier run left on blue');
  context.io.err(`ended ${onGreen.length} copy session(s) on green and ${onBlue.length} dump session(s) on blue left by an earlier run`);
}

/** The major version a server runs. */
const majorVersionOf = async (sql: Sql) => Number(await scalar<string>(sql, `SELECT current_setting('server_version_num')::int / 10000`));

/** The start `recordCloneStart` left in green's database comment, if any. */
const recordedStartOn = async (context: BlueGreenContext, green: Sql) =>
  recordedCloneStart((await databaseState(green, 'green', databaseOf(context.greenUrl))).comment, context.names.publication);

/** Where green's clone starts (see cloneStart), with what green had recorded. */
async function resolveCloneStart(context: BlueGreenContext, admin: Sql, green: Sql, given?: string): Promise<{ lsn: string; from: CloneStart['from']; recorded?: string }> {
  const recorded = await recordedStartOn(context, green);
  const start = cloneStart({ given, recorded, blueMajor: await majorVersionOf(admin), greenMajor: await majorVersionOf(green) });
  const lsn = start.from === 'aurora'
    ? await scalar<string>(green, 'SELECT aurora_volume_logical_start_lsn()::text').catch(() => {
      throw refuse('green has no aurora_volume_logical_start_lsn(); give the LSN the clone is consistent at with --clone-lsn');
    })
    : start.lsn;
  return { lsn, from: start.from, recorded };
}

/**
 * Drops what a clone copied from blue: blue's publication and (an Aurora clone copies slots too) blue's
 * slot. Green must not publish as blue does, and a copied slot would keep green's WAL for nobody and
 * stop an in-place major upgrade. Blue's own slot and publication are untouched: they are blue's server's.
 */
async function dropCloneRelics(context: BlueGreenContext, green: Sql): Promise<void> {
  await green.query(`DROP PUBLICATION IF EXISTS ${green.escapeIdentifier(context.names.publication)}`);
  await dropSlot(context, green, databaseOf(context.greenUrl));
}

/**
 * `upgrade-clone`'s part on the databases, before green's in-place upgrade: reads where the clone
 * starts while Aurora can still say it, records it in green's database comment (the upgrade keeps
 * it), and drops what the clone copied, so that the upgrade's own checks find no replication slot.
 * Refuses an attached green and any other slot on green's server. Returns the start; repeatable,
 * and once green is upgraded a re-run returns the recorded start without reading again.
 */
export async function recordCloneStart(context: BlueGreenContext): Promise<string> {
  const { names } = context;
  return step(context, async (admin, database) => {
    refuseIfCutOver(await blueDatabaseState(admin, database, names), 'upgrade-clone');
    if (!(await slotOn(admin, names.slot, database))) throw refuse(`blue has no slot ${names.slot}: run "prepare --for-clone" before cloning green`);
    return withDatabase(targets(context).green, async (green) => {
      if (await subscriptionOn(green, names.subscription)) {
        throw refuse(`green is attached already (subscription ${names.subscription}): an upgrade now would stop its replication; upgrade a clone before "attach --clone"`);
      }
      const { lsn, from } = await resolveCloneStart(context, admin, green);
      if (from === 'aurora') await green.query(`COMMENT ON DATABASE ${green.escapeIdentifier(databaseOf(context.greenUrl))} IS ${green.escapeLiteral(formatCloneStart(names.publication, lsn))}`);
      await dropCloneRelics(context, green);
      const slots = (await green.query(`SELECT slot_name, database FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY slot_name`)).rows;
      if (slots.length > 0) {
        throw refuse(`green's server has logical replication slots, which stop an in-place major upgrade: ${slots.map((slot: { slot_name: string; database: string | null }) => `${slot.slot_name} (database ${slot.database})`).join(', ')}. ` +
          `If the clone copied them from blue, drop them on green (SELECT pg_drop_replication_slot('<name>') in their database; blue's own stay); the clone's start ${lsn} is recorded`);
      }
      return lsn;
    });
  });
}

/** The start `recordCloneStart` recorded in green's database comment, and whether green is attached (which clears it): what `upgrade-clone` checks once green is upgraded. */
export async function recordedCloneStartOnGreen(context: BlueGreenContext): Promise<{ start?: string; attached: boolean }> {
  return withDatabase(targets(context).green, async (green) => ({
    start: await recordedStartOn(context, green),
    attached: (await subscriptionOn(green, context.names.subscription)) !== undefined,
  }));
}

/**
 * `attach` on a green that is a clone of blue (Aurora's copy-on-write clone, or any physical copy):
 * drop what the clone copied, create the subscription disabled with no initial copy and no new slot,
 * advance its origin to the LSN the clone holds everything up to, and enable it. The LSN is
 * `cloneLsn`, else the start `upgrade-clone` recorded on green, else Aurora's
 * `aurora_volume_logical_start_lsn()` on green while green runs blue's major version (see cloneStart).
 * The record goes in the transaction that creates the subscription: a later clone of green never inherits it.
 */
export async function attachClone(context: BlueGreenContext, options: { cloneLsn?: string }): Promise<void> {
  const { names } = context;
  requirePassword(context, 'attach');
  await step(context, async (admin, database) => {
    const blueState = await blueDatabaseState(admin, database, names);
    refuseIfCutOver(blueState, 'attach');
    if (!(await slotOn(admin, names.slot, database))) throw refuse(`blue has no slot ${names.slot}: run "prepare --for-clone" before cloning green`);
    await withDatabase(targets(context).green, async (green) => {
      const subscription = green.escapeIdentifier(names.subscription);
      if (!(await subscriptionOn(green, names.subscription))) {
        const { lsn: cloneLsn, from, recorded } = await resolveCloneStart(context, admin, green, options.cloneLsn);
        await dropCloneRelics(context, green);
        await green.query('BEGIN');
        await green.query(QUIET_SECRETS);
        await green.query(createSubscriptionSql(context, green, false));
        await advanceOrigin(green, names.subscription, cloneLsn);
        // Green's comment becomes blue's again (what the clone copied).
        const { comment } = blueState;
        if (recorded !== undefined) await green.query(`COMMENT ON DATABASE ${green.escapeIdentifier(databaseOf(context.greenUrl))} IS ${comment === null ? 'NULL' : green.escapeLiteral(comment)}`);
        await green.query('COMMIT');
        context.io.err(`green's subscription starts after ${cloneLsn}${from === 'recorded' ? ' (recorded on green before its upgrade)' : ''}`);
      }
      await green.query(`ALTER SUBSCRIPTION ${subscription} ENABLE`);
    });
  });
  context.io.out(`attached the clone: subscription ${names.subscription} replicates from slot ${names.slot}`);
}

/**
 * `attach` on green (plain PostgreSQL): a slot on blue with an exported snapshot, a copy of blue at
 * exactly that snapshot, and a subscription that starts where the copy ends, committed on green in
 * one transaction with the copy (see copy.ts for why a crash leaves green untouched or attached).
 */
export async function attach(context: BlueGreenContext): Promise<void> {
  const { names } = context;
  requirePassword(context, 'attach');
  const { blue: blueTarget, green: greenTarget } = targets(context);
  const attached = await step(context, async (admin, database) => {
    refuseIfCutOver(await blueDatabaseState(admin, database, names), 'attach');
    return withDatabase(greenTarget, async (green) => {
      await endOrphanedCopies(context, admin, green, database);
      if (await subscriptionOn(green, names.subscription)) {
        await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} ENABLE`);
        return true;
      }
      const published = await withDatabase(blueTarget, (blue) => scalar<boolean>(blue, 'SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)', [names.publication]));
      if (!published) throw refuse(`blue has no publication ${names.publication}: run prepare first`);
      const objects = await userObjects(green);
      if (objects.length > 0) {
        throw refuse(`green already has ${objects.length} object(s) (${objects.slice(0, 8).join(', ')}${objects.length > 8 ? ', …' : ''}) but no subscription, and attach copies blue into an empty database; ` +
          `nothing was changed. Drop them (or recreate green's database), or run attach --clone if green is a clone of blue`);
      }
      const slot = await slotOn(admin, names.slot, database);
      if (slot?.active) throw refuse(`slot ${names.slot} on blue is in use by pid ${slot.activePid}, which is no subscription of this green; choose another BLUEGREEN_NAME`);
      // No subscription and no copy left running: nothing can use this slot, and its snapshot is gone.
      if (slot) await admin.query('SELECT pg_drop_replication_slot($1)', [names.slot]);

      const replication = await connect(blueTarget, { replication: 'database' } as never);
      try {
        const { rows } = await replication.query(`CREATE_REPLICATION_SLOT ${replication.escapeIdentifier(names.slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
        const { consistent_point: lsn, snapshot_name: snapshot } = rows[0];
        await context.reach?.('attach:after-slot');
        await copyBlueIntoGreen({
          pgBinDir: context.pgBinDir,
          blue: blueTarget,
          green: greenTarget,
          snapshot,
          finalSql: `${QUIET_SECRETS}\n${createSubscriptionSql(context, green, false)};`,
          lockKey: lockKey(names.subscription),
          applicationName: copyApplicationName(names),
          reach: context.reach,
        });
        context.io.err(`copied blue at ${lsn} into green`);
      } finally {
        await replication.end();
      }
      await context.reach?.('attach:after-copy');
      if (!(await subscriptionOn(green, names.subscription))) throw new CliError('the copy finished but green has no subscription', ExitCode.stopped);
      await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} ENABLE`);
      return false;
    });
  });
  context.io.out(attached ? `green was already attached; subscription ${names.subscription} enabled` : `attached green: subscription ${names.subscription} replicates from slot ${names.slot}`);
}

export interface Lag {
  /** Blue to green until the cut-over; green to blue in the rollback window. */
  readonly direction: 'blue to green' | 'green to blue';
  readonly slot: string;
  readonly active: boolean;
  readonly lagBytes: number;
  /** Seconds since green last confirmed a position, as green reports it. */
  readonly secondsSinceConfirmed: number | null;
}

/** The Aurora instance each side's URL reaches, where the server is Aurora (else undefined): which cluster a step is about to move writes between. */
export interface ReachedInstances {
  readonly blue?: string;
  readonly green?: string;
}

/**
 * Asks each side's server which Aurora instance it is (`aurora_db_instance_identifier()`), over its
 * admin database, which stays open whichever side a step closed. A server without the function
 * (not Aurora) answers undefined.
 */
export async function reachedInstances(context: BlueGreenContext): Promise<ReachedInstances> {
  const { admin, greenAdmin } = targets(context);
  const identify = (target: Target) => withDatabase(target, async (sql) =>
    (await scalar<boolean>(sql, "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'aurora_db_instance_identifier')"))
      ? scalar<string>(sql, 'SELECT aurora_db_instance_identifier()')
      : undefined);
  const [blue, green] = await Promise.all([identify(admin), identify(greenAdmin)]);
  return { blue, green };
}

/**
 * `lag`: bytes of WAL the publisher holds for the subscriber, and time since the subscriber last
 * confirmed: blue for green until the cut-over, green for blue in the rollback window.
 */
export async function lag(context: BlueGreenContext, print = true): Promise<Lag> {
  const { names } = context;
  const { admin, blue, green, greenAdmin } = targets(context);
  const database = databaseOf(context.blueUrl);
  const marker = await withDatabase(admin, async (sql) => (await blueDatabaseState(sql, database, names)).marker);
  const windowOpen = rollbackWindowOpen(marker);
  const direction = windowOpen ? backward(names) : forward(names);
  const [publisherAdmin, subscriber, publisherDatabase] = windowOpen ? [greenAdmin, blue, databaseOf(context.greenUrl)] : [admin, green, database];
  const fromPublisher = await withDatabase(publisherAdmin, async (sql) => {
    const { rows } = await sql.query(
      'SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag FROM pg_replication_slots WHERE slot_name = $1 AND database = $2',
      [direction.slot, publisherDatabase],
    );
    if (rows.length === 0) throw refuse(`${direction.from} has no replication slot ${direction.slot}: ${windowOpen ? 'the rollback window has lost its slot' : 'attach first'}`);
    return { active: Boolean(rows[0].active), lagBytes: Number(rows[0].lag) };
  });
  const secondsSinceConfirmed = await withDatabase(subscriber, (sql) =>
    scalar<string | null>(sql, 'SELECT extract(epoch FROM now() - latest_end_time) FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL', [direction.subscription]));
  const result: Lag = {
    direction: windowOpen ? 'green to blue' : 'blue to green', slot: direction.slot, ...fromPublisher,
    secondsSinceConfirmed: secondsSinceConfirmed === null || secondsSinceConfirmed === undefined ? null : Number(secondsSinceConfirmed),
  };
  if (print) {
    if (context.json) context.io.out(JSON.stringify(result));
    else context.io.out(`${result.direction}, slot ${result.slot}: ${result.lagBytes} bytes behind, ${result.active ? 'active' : 'NOT active'}, last confirmed ${result.secondsSinceConfirmed === null ? 'never' : `${result.secondsSinceConfirmed.toFixed(1)} s ago`}`);
  }
  return result;
}

export interface CutoverResult {
  /** From blue turning read-only (in the first run that froze it) until green held every write and sequence. */
  readonly writeFreezeMs: number;
  readonly frozenSince: string;
  readonly cutOverAt: string;
  readonly sequencesCopied: number;
  /** Tables whose row counts were compared under the freeze (0 with --no-row-counts). */
  readonly tablesCompared: number;
  /** Blue receives green's writes until `end-rollback`, so `rollback` loses none. */
  readonly rollbackOpen: boolean;
}

const tableSet = (tables: readonly LeafTable[]) => new Set(tables.map((table) => table.name));

/** Tables and sequences on one side only, and with `columns` every column that differs: DDL after attach, which logical replication does not carry. */
async function schemaDrift(blue: Sql, green: Sql, options: { columns?: boolean } = {}): Promise<string[]> {
  const [blueTables, greenTables, blueSequences, greenSequences] = await Promise.all([
    leafTables(blue).then(tableSet), leafTables(green).then(tableSet),
    sequences(blue).then((list) => new Set(list.map((s) => s.name))), sequences(green).then((list) => new Set(list.map((s) => s.name))),
  ]);
  const onlyIn = (kind: string, side: string, mine: Set<string>, theirs: Set<string>) => [...mine].filter((name) => !theirs.has(name)).map((name) => `${kind} ${name} only on ${side}`);
  const drift = [
    ...onlyIn('table', 'blue', blueTables, greenTables), ...onlyIn('table', 'green', greenTables, blueTables),
    ...onlyIn('sequence', 'blue', blueSequences, greenSequences), ...onlyIn('sequence', 'green', greenSequences, blueSequences),
  ];
  // Columns before the freeze; under its locks no ALTER TABLE can run, so the tables alone are re-checked there.
  if (!options.columns) return drift;
  const shared = new Set([...blueTables].filter((table) => greenTables.has(table)));
  return [...drift, ...columnDrift(await tableColumns(blue), await tableColumns(green), shared)];
}

/** How `cutover` and `rollback` run, and the bounds their guardrails refuse past. */
export interface CutoverOptions {
  readonly terminate: boolean;
  readonly timeoutMs: number;
  readonly countRows: boolean;
  /** Refuse to freeze while the side taking over is further behind than this. @default 64 MiB */
  readonly maxLagBytes?: number;
  /** Refuse to freeze while a transaction on the side being frozen is older than this. @default 60 */
  readonly maxTransactionSeconds?: number;
  /** The caller moves the writer's name next, so the output does not tell the operator to. */
  readonly movesName?: boolean;
  /** `cutover` only: blue goes on receiving green's writes, fenced, so that `rollback` loses none. @default true */
  readonly rollbackWindow?: boolean;
}

/** A switch of writes: the side being frozen (the publisher) and the side taking over (its subscriber). */
interface Switch {
  readonly direction: Direction;
  /** Our session in the database being frozen, writable whatever its default. */
  readonly source: Sql;
  /** The maintenance database on the server being frozen. */
  readonly sourceAdmin: Sql;
  readonly sourceDatabase: string;
  /** Our session in the database taking over. */
  readonly target: Sql;
}

/** Blue's session and green's, whichever way the switch goes: messages always say "only on blue" of blue. */
const blueAndGreen = (change: Switch): [Sql, Sql] => (change.direction.from === 'blue' ? [change.source, change.target] : [change.target, change.source]);

/**
 * What must hold before the source is frozen, each refusal naming the object: what logical
 * replication would lose or break (tables without identity, unlogged tables, large objects,
 * unreadable sequences, tables and columns that differ), a subscription that is not streaming, and,
 * before a first freeze, transactions a freeze cannot wait out and lag that would make it long.
 */
async function guardrails(context: BlueGreenContext, change: Switch, options: CutoverOptions, firstFreeze: boolean): Promise<string[]> {
  const { clock } = context;
  const { direction, source, sourceAdmin, target } = change;
  const problems = [...await schemaDrift(...blueAndGreen(change), { columns: true }), ...(await replicationProblems(source)).map(problemDetail)];
  const streaming = await waitFor(clock, clock.now() + WAIT_MS, 50, async () =>
    (await scalar<boolean>(target, 'SELECT EXISTS (SELECT 1 FROM pg_stat_subscription WHERE subname = $1 AND relid IS NULL AND pid IS NOT NULL)', [direction.subscription])) || undefined);
  if (!streaming) problems.push(`subscription ${direction.subscription} on ${direction.to} is not streaming (no apply worker for ${Math.round(WAIT_MS / 1000)} s): see ${direction.to}'s server log`);
  if (!firstFreeze) return problems;
  problems.push(...await blockingTransactions(sourceAdmin, change.sourceDatabase, options.maxTransactionSeconds ?? 60, [source.pid]));
  const maxLag = options.maxLagBytes ?? 64 * 1024 * 1024;
  const behind = Number(await scalar<string>(sourceAdmin, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1 AND database = $2', [direction.slot, change.sourceDatabase]));
  if (behind > maxLag) problems.push(`${direction.to} is ${behind} bytes behind ${direction.from}, more than the ${maxLag} allowed (--max-lag-bytes): the freeze would last while it catches up`);
  return problems;
}

/**
 * The heart of a switch, in the source's own transaction (the caller ends it): EXCLUSIVE locks on
 * every table, so that no write is in progress and none can start; the sessions that arrived during
 * the freeze ended; the source's final WAL position read and confirmed by the target; sequences set
 * on the target at or beyond the source's; and, under the same locks, the same tables on both sides
 * with (optionally) the same row counts. `stays` says what holds when it fails, and what to run.
 */
async function drainUnderLocks(context: BlueGreenContext, change: Switch, options: CutoverOptions, endedBefore: number, stays: string,
  reach: (point: 'after-lock' | 'after-sequences') => unknown): Promise<{ sequencesCopied: number; tablesCompared: number }> {
  const { clock } = context;
  const { direction, source, sourceAdmin, target } = change;
  const tables = await leafTables(source);
  await source.query('BEGIN');
  await source.query(`SET LOCAL lock_timeout = ${WAIT_MS}`);
  if (tables.length > 0) await source.query(`LOCK TABLE ${tables.map((table) => table.name).join(', ')} IN EXCLUSIVE MODE`);
  await reach('after-lock');
  const arrived = await endOtherSessions(context, sourceAdmin, change.sourceDatabase, [source.pid], `ending the sessions that connected to ${direction.from} during the freeze`);
  context.io.err(`${direction.from}'s tables are locked; ${endedBefore + arrived} session(s) ended`);

  const finalLsn = await scalar<string>(source, 'SELECT pg_current_wal_insert_lsn()');
  const confirmed = await waitFor(clock, clock.now() + options.timeoutMs, 50, async () =>
    (await scalar<boolean>(sourceAdmin, 'SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2 AND database = $3', [finalLsn, direction.slot, change.sourceDatabase])) || undefined);
  if (!confirmed) throw new CliError(`${direction.to} did not confirm ${direction.from}'s WAL up to ${finalLsn} within ${Math.round(options.timeoutMs / 1000)} s; ${stays}`, ExitCode.timeout);

  let sequencesCopied = 0;
  for (const sequence of await sequences(source)) {
    const next = sequenceTarget(await readSequence(source, sequence.name), await readSequence(target, sequence.name), sequence);
    if (next) await target.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [sequence.name, next.lastValue.toString(), next.isCalled]);
    sequencesCopied++;
  }
  await reach('after-sequences');

  const compared = options.countRows ? [...tableSet(tables)].sort() : [];
  // A table created on one side since the drift check is a mismatch too (and is not counted: a
  // failing count would abort the transaction that holds the locks).
  const mismatches = await schemaDrift(...blueAndGreen(change));
  const onTarget = tableSet(await leafTables(target));
  for (const name of compared.filter((table) => onTarget.has(table))) {
    const [sourceCount, targetCount] = await Promise.all([source, target].map((sql) => scalar<string>(sql, `SELECT count(*) FROM ${name}`)));
    if (sourceCount !== targetCount) mismatches.push(`${name}: ${direction.from} ${sourceCount}, ${direction.to} ${targetCount}`);
  }
  if (mismatches.length > 0) {
    throw new CliError(`row counts differ after ${direction.to} confirmed all of ${direction.from}'s WAL, so the subscription is kept and ${stays}: ${mismatches.join('; ')}`, ExitCode.stopped);
  }
  return { sequencesCopied, tablesCompared: compared.length };
}

/** What green lacks to publish the rollback window's way back: logical WAL and a free slot (unless it holds the window's slot already). */
async function wayBackProblems(green: Sql, names: Names): Promise<string[]> {
  const walLevel = await scalar<string>(green, 'SHOW wal_level');
  const { rows } = await green.query(`SELECT current_setting('max_replication_slots')::int - count(*) AS free, bool_or(slot_name = $1) AS ours FROM pg_replication_slots`, [names.back]);
  return [
    ...(walLevel === 'logical' ? [] : [`green's wal_level is ${walLevel}, so blue cannot receive green's writes: set rds.logical_replication=1 in green's cluster parameter group (Aurora) or wal_level=logical, then restart`]),
    ...(Number(rows[0].free) >= 1 || rows[0].ours ? [] : ['green has no free replication slot for the rollback window (max_replication_slots)']),
  ];
}

/**
 * The rollback window's path from green back to blue, made before blue is frozen so that nothing of
 * it (slot creation waits for green's open transactions) lengthens the freeze: green's replication
 * user, a publication of all tables, and a slot. Blue subscribes at the cut-over. Repeatable.
 */
async function prepareWayBack(context: BlueGreenContext, green: Sql, greenAdmin: Sql): Promise<void> {
  const { names } = context;
  await green.query('BEGIN');
  try {
    await ensureReplicationUser(context, green);
    if (!(await scalar<boolean>(green, 'SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)', [names.back]))) {
      await green.query(`CREATE PUBLICATION ${green.escapeIdentifier(names.back)} FOR ALL TABLES`);
    }
    await green.query('COMMIT');
  } catch (error) {
    await green.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  if (await slotOn(greenAdmin, names.back, databaseOf(context.greenUrl))) return;
  await green.query(`SET statement_timeout = ${WAIT_MS}`);
  try {
    await green.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [names.back]);
  } catch (error) {
    if (sqlStateOf(error) !== '57014') throw error;
    throw refuse(`green's slot ${names.back} for the rollback window waits for transactions open on green: ${describeSessions(await otherSessions(greenAdmin, databaseOf(context.greenUrl), [green.pid]))}; nothing was frozen (end them, or cut over with --no-rollback)`);
  } finally {
    await green.query('RESET statement_timeout');
  }
}

/** Removes what prepareWayBack made on green. Repeatable; green's database must take connections. */
async function removeWayBack(context: BlueGreenContext, green: Sql, greenAdmin: Sql): Promise<void> {
  await dropSlot(context, greenAdmin, databaseOf(context.greenUrl), context.names.back);
  await writableSession(green);
  await green.query(`DROP PUBLICATION IF EXISTS ${green.escapeIdentifier(context.names.back)}`);
  await dropReplicationUser(green, context.names);
}

/**
 * The fence of blue in the rollback window: a trigger on every table that refuses every client's
 * insert, update, delete and truncate, even a client that turns read-only off. Ordinary triggers do
 * not fire in replica mode, which is how the rollback window's subscription applies green's writes.
 * In blue's open transaction; dropped with its schema.
 */
async function fenceBlue(context: BlueGreenContext, blue: Sql, cutOverAt: string): Promise<void> {
  const schema = blue.escapeIdentifier(context.names.fence);
  const refusal = `blue was cut over to green at ${cutOverAt}; it takes writes again only through bluegreen rollback`;
  await blue.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await blue.query(`CREATE SCHEMA ${schema}`);
  await blue.query(`CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction', MESSAGE = ${blue.escapeLiteral(refusal)}; END $$`);
  for (const table of await leafTables(blue)) {
    await blue.query(`CREATE TRIGGER keycloak_bluegreen_fence BEFORE INSERT OR UPDATE OR DELETE ON ${table.name} FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse()`);
    await blue.query(`CREATE TRIGGER keycloak_bluegreen_fence_truncate BEFORE TRUNCATE ON ${table.name} FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.refuse()`);
  }
}

/** Drops blue's rollback-window subscription (its slot is dropped on green's server) and the fence. In blue's open transaction. */
async function unsubscribeBlue(context: BlueGreenContext, blue: Sql): Promise<void> {
  const { names } = context;
  if (await subscriptionOn(blue, names.back)) await dropSubscription(blue, names.back);
  await blue.query(`DROP SCHEMA IF EXISTS ${blue.escapeIdentifier(names.fence)} CASCADE`);
}

/**
 * `cutover`. Why no acknowledged write can be missed: the runner reads blue's final WAL position
 * only while it holds EXCLUSIVE locks on every table (no write is in progress and none can start)
 * and after every other session on blue has been ended and has exited; green must confirm that
 * position before anything else happens. Before the locks go, blue is fenced (closed to new
 * connections, or with the rollback window, a trigger refusing every client write) and every session
 * is ended again, so nothing can write on blue afterwards. With the rollback window, blue subscribes
 * to green from green's position once it holds everything of blue's, in the transaction that records
 * the cut-over, so every write green acknowledges afterwards also reaches blue. Each change of state
 * is recorded on blue (the marker, read-only, the fence) so a re-run after a crash at any instant
 * knows where it stands and repeats the part that is not done.
 */
export async function cutover(context: BlueGreenContext, options: CutoverOptions): Promise<CutoverResult> {
  const { names, clock } = context;
  const rollbackWindow = options.rollbackWindow ?? true;
  if (rollbackWindow) requirePassword(context, 'cutover with a rollback window (or --no-rollback)');
  const result = await step(context, async (admin, database) => {
    const state = await blueDatabaseState(admin, database, names);
    if (state.marker?.state === 'cut-over') return finishCutover(context, admin, database, state.marker, 0, 0);
    if (state.marker?.state === 'rolling-back') throw refuse(`the cut-over completed at ${state.marker.cutOverAt} and a rollback froze green at ${state.marker.rollingBackSince}: run rollback again to complete it, or end-rollback to stay on green`);
    const wasFrozen = state.marker?.state === 'frozen' ? state.marker : undefined;
    // Closed by a run that died before it recorded the cut-over: open again to verify from the start.
    if (!state.acceptsConnections && wasFrozen) await allowConnections(admin, database, true);

    const blue = await connect(targets(context).blue);
    try {
      await writableSession(blue);
      return await withDatabase(targets(context).green, (green) => withDatabase(targets(context).greenAdmin, async (greenAdmin) => {
        const subscription = await subscriptionOn(green, names.subscription);
        if (!subscription) {
          throw refuse(wasFrozen
            ? `green has no subscription ${names.subscription} though a cut-over froze blue at ${wasFrozen.frozenSince}: an abort was interrupted; run abort again`
            : `green has no subscription ${names.subscription}: attach first`);
        }
        const stays = wasFrozen ? `blue stays read-only since ${wasFrozen.frozenSince}` : 'nothing was changed';
        // A subscription made by an older runner: take the setting now, before the freeze, since the
        // apply worker restarts to take it.
        if (subscription.synchronousCommit !== 'on') await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} SET (synchronous_commit = 'on')`);
        if (!subscription.enabled) await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} ENABLE`);
        const change: Switch = { direction: forward(names), source: blue, sourceAdmin: admin, sourceDatabase: database, target: green };
        const refusals = [...await guardrails(context, change, options, !wasFrozen), ...(rollbackWindow ? (await wayBackProblems(green, names)).map((problem) => `${problem} (or --no-rollback)`) : [])];
        if (refusals.length > 0) throw refuse(`not cutting over (DDL, large objects and tables without identity are not replicated): ${refusals.join('; ')}; ${stays}`);
        const sessions = await otherSessions(admin, database, [blue.pid]);
        if (sessions.length > 0 && !options.terminate) throw refuse(`sessions still use blue; stop them or add --terminate: ${describeSessions(sessions)}; ${stays}`);
        if (rollbackWindow) await prepareWayBack(context, green, greenAdmin);
        else await removeWayBack(context, green, greenAdmin);

        let frozenSince = wasFrozen?.frozenSince;
        if (!frozenSince) {
          frozenSince = await serverNow(admin);
          await admin.query('BEGIN');
          await freezeNewSessions(admin, database, true);
          await setMarker(admin, database, { state: 'frozen', name: names.publication, frozenSince });
          await admin.query('COMMIT');
        }
        context.io.err(`blue is read-only for new sessions since ${frozenSince}`);
        await context.reach?.('cutover:after-freeze');
        // Sessions that connected before the freeze can still write until they are ended.
        await endSessions(admin, sessions.map((s) => s.pid), clock, WAIT_MS, 'ending the sessions on blue');

        const drained = await drainUnderLocks(context, change, options, sessions.length, 'blue stays read-only (run cutover again, or abort to give blue its writes back)',
          (point) => context.reach?.(`cutover:${point}`));

        // Green holds everything: fence blue for good before the locks go, then record the cut-over.
        const cutOverAt = await serverNow(blue);
        let greenPosition: string | undefined;
        if (rollbackWindow) {
          // No change from blue is left to apply: from here green's WAL holds only green's own writes.
          await green.query(`ALTER SUBSCRIPTION ${green.escapeIdentifier(names.subscription)} DISABLE`);
          greenPosition = await scalar<string>(green, 'SELECT pg_current_wal_lsn()');
          await fenceBlue(context, blue, cutOverAt);
        } else {
          await allowConnections(admin, database, false);
        }
        await endOtherSessions(context, admin, database, [blue.pid], 'ending the sessions left on blue');
        await context.reach?.('cutover:after-disallow');
        // One transaction: blue no longer publishes, subscribes to green (with the window), and the cut-over is recorded, or none of it.
        await blue.query(`DROP PUBLICATION IF EXISTS ${blue.escapeIdentifier(names.publication)}`);
        await dropReplicationUser(blue, names);
        if (greenPosition) {
          await blue.query(QUIET_SECRETS);
          await blue.query(createSubscriptionSql(context, blue, false, backward(names)));
          await advanceOrigin(blue, names.back, greenPosition);
          await blue.query(`ALTER SUBSCRIPTION ${blue.escapeIdentifier(names.back)} ENABLE`);
        }
        const marker: Marker & { state: 'cut-over' } = { state: 'cut-over', name: names.publication, frozenSince, cutOverAt, rollbackOpen: rollbackWindow };
        await setMarker(blue, database, marker);
        await blue.query('COMMIT');
        await context.reach?.('cutover:after-mark');
        return finishCutover(context, admin, database, marker, drained.sequencesCopied, drained.tablesCompared);
      }));
    } finally {
      await blue.end();
    }
  });
  // With the name to move, the caller prints one JSON with both.
  if (context.json) {
    if (!options.movesName) context.io.out(JSON.stringify(result));
  } else {
    context.io.out(`cut over: writes were frozen for ${result.writeFreezeMs} ms (blue read-only since ${result.frozenSince}, green complete at ${result.cutOverAt}); ${result.sequencesCopied} sequences copied, ${result.tablesCompared > 0 ? `${result.tablesCompared} tables match` : 'row counts not compared'}`);
    if (!options.movesName) context.io.out('Now point Keycloak at green: run this cutover again with --environment <env> to move the writer DNS name (or change KC_DB_URL), and let the pool reconnect.');
  }
  return result;
}

/** A subscription starts after `lsn`: what it would receive before that, its subscriber already holds. */
async function advanceOrigin(subscriber: Sql, subscription: string, lsn: string): Promise<void> {
  await subscriber.query(`SELECT pg_replication_origin_advance('pg_' || oid, $1::pg_lsn) FROM pg_subscription
    WHERE subname = $2 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, [lsn, subscription]);
}

async function dropReplicationUser(publisher: Sql, names: Names): Promise<void> {
  if (!(await scalar<boolean>(publisher, 'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)', [names.replicationUser]))) return;
  await publisher.query(`DROP OWNED BY ${publisher.escapeIdentifier(names.replicationUser)}`);
  await publisher.query(`DROP ROLE ${publisher.escapeIdentifier(names.replicationUser)}`);
}

/** After the cut-over is recorded: green's subscription and blue's slot go. Repeatable. */
async function finishCutover(context: BlueGreenContext, admin: Sql, database: string, marker: Marker & { state: 'cut-over' }, sequencesCopied: number, tablesCompared: number): Promise<CutoverResult> {
  const { names } = context;
  await withDatabase(targets(context).green, async (green) => {
    if (await subscriptionOn(green, names.subscription)) await dropSubscription(green, names.subscription);
  });
  await dropSlot(context, admin, database);
  const left = (await scalar<boolean>(admin, 'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)', [names.replicationUser]))
    ? `; the replication user ${names.replicationUser} is left on blue's server (DROP OWNED BY and DROP ROLE it there)` : '';
  if (left || sequencesCopied + tablesCompared === 0) context.io.err(`the cut-over completed at ${marker.cutOverAt}${left}`);
  if (marker.rollbackOpen) {
    context.io.err(`rollback window open: blue receives every write green takes and refuses its clients' writes; "bluegreen rollback" moves the writes back to blue with none lost, ` +
      `"bluegreen end-rollback" ends the window (green's slot ${names.back} keeps WAL for blue until then)`);
  }
  return {
    writeFreezeMs: await millisecondsBetween(admin, marker.frozenSince, marker.cutOverAt), frozenSince: marker.frozenSince, cutOverAt: marker.cutOverAt, sequencesCopied, tablesCompared,
    rollbackOpen: marker.rollbackOpen,
  };
}

/** Drops a subscription without reaching its publisher (the slot is dropped on the publisher's server, by dropSlot). */
async function dropSubscription(subscriber: Sql, name: string): Promise<void> {
  const subscription = subscriber.escapeIdentifier(name);
  await subscriber.query(`ALTER SUBSCRIPTION ${subscription} DISABLE`);
  await subscriber.query(`ALTER SUBSCRIPTION ${subscription} SET (slot_name = NONE)`);
  await subscriber.query(`DROP SUBSCRIPTION ${subscription}`);
}

/** Drops a slot once nothing streams from it (the walsender of a just-disabled subscription exits on its own). */
async function dropSlot(context: BlueGreenContext, admin: Sql, database: string, slotName = context.names.slot): Promise<void> {
  const slot = await slotOn(admin, slotName, database);
  if (!slot) return;
  if (slot.activePid !== null) await endSessions(admin, [slot.activePid], context.clock, WAIT_MS, `ending the walsender of slot ${slotName}`);
  await admin.query('SELECT pg_drop_replication_slot($1)', [slotName]);
}

/**
 * `abort` before the cut-over completes: removes subscription, slot, publication and user, and gives
 * blue its writes back. Says what it leaves on green: the copy of blue's data.
 */
export async function abort(context: BlueGreenContext): Promise<void> {
  const { names } = context;
  const leftOnGreen = await step(context, async (admin, database) => {
    const state = await blueDatabaseState(admin, database, names);
    if (state.marker?.state === 'cut-over' || state.marker?.state === 'rolling-back') {
      throw refuse(`the cut-over completed at ${state.marker.cutOverAt} (green has every write since); abort would give blue its writes back beside green` +
        `${rollbackWindowOpen(state.marker) ? ': rollback moves them back with every write green took' : ''}`);
    }
    if (!state.acceptsConnections && state.marker) await allowConnections(admin, database, true);
    const objects = await withDatabase(targets(context).green, (green) => withDatabase(targets(context).greenAdmin, async (greenAdmin) => {
      await endOrphanedCopies(context, admin, green, database);
      if (await subscriptionOn(green, names.subscription)) await dropSubscription(green, names.subscription);
      await removeWayBack(context, green, greenAdmin);
      return userObjects(green);
    }));
    await context.reach?.('abort:after-subscription');
    await dropSlot(context, admin, database);
    await withDatabase(targets(context).blue, async (blue) => {
      await writableSession(blue);
      await blue.query(`DROP PUBLICATION IF EXISTS ${blue.escapeIdentifier(names.publication)}`);
      await dropReplicationUser(blue, names);
    });
    if (state.marker) {
      await admin.query('BEGIN');
      await freezeNewSessions(admin, database, false);
      await setMarker(admin, database, undefined);
      await admin.query('COMMIT');
    }
    return objects;
  });
  context.io.out(`aborted: subscription, slot ${names.slot}, publication ${names.publication} and user ${names.replicationUser} removed; blue takes writes`);
  if (leftOnGreen.length > 0) {
    context.io.out(`green keeps ${leftOnGreen.length} object(s) copied from blue (${leftOnGreen.slice(0, 8).join(', ')}${leftOnGreen.length > 8 ? ', …' : ''}); drop them or recreate green's database before attaching again`);
  }
}


export interface RollbackResult {
  /** From green turning read-only (in the first run that froze it) until blue held every write and sequence. */
  readonly writeFreezeMs: number;
  readonly frozenSince: string;
  readonly rolledBackAt: string;
  readonly sequencesCopied: number;
  readonly tablesCompared: number;
}

/**
 * `rollback` in the rollback window: a cut-over in reverse. Green is frozen and drained into blue
 * through the window's subscription exactly as blue was into green (the same locks, final position
 * and sequences; see cutover), then closed; in one transaction on blue, the subscription and the
 * fence go, blue takes writes again and the marker is cleared. The marker says "rolling back" before
 * green is frozen, and green's database comment says when green's part is done, so a re-run after a
 * crash at any instant completes it, and end-rollback can still give green its writes back instead.
 */
export async function rollback(context: BlueGreenContext, options: CutoverOptions): Promise<RollbackResult> {
  const { names, clock } = context;
  const greenDatabase = databaseOf(context.greenUrl);
  const result = await step(context, (admin, database) => withDatabase(targets(context).greenAdmin, async (greenAdmin): Promise<RollbackResult> => {
    const state = await blueDatabaseState(admin, database, names);
    const greenState = await databaseState(greenAdmin, 'green', greenDatabase);
    const greenDoneAt = rolledBackAt(greenState.comment, names.publication);
    if (!state.marker) {
      if (!greenDoneAt) throw refuse('blue was not cut over: there is nothing to roll back (before a cut-over, abort gives blue its writes back)');
      await dropSlot(context, greenAdmin, greenDatabase, names.back);
      context.io.err(`the rollback completed at ${greenDoneAt}`);
      return { writeFreezeMs: 0, frozenSince: greenDoneAt, rolledBackAt: greenDoneAt, sequencesCopied: 0, tablesCompared: 0 };
    }
    if (state.marker.state === 'frozen') throw refuse(`a cut-over froze blue at ${state.marker.frozenSince} and has not completed: abort gives blue its writes back`);
    if (!rollbackWindowOpen(state.marker)) {
      throw refuse(`blue was cut over at ${state.marker.cutOverAt} with no rollback window open (cut over with --no-rollback, or the window was ended): blue has none of green's writes since, so moving back would lose them`);
    }
    const wasFrozen = state.marker.state === 'rolling-back' ? state.marker : undefined;
    const { cutOverAt, frozenSince: blueFrozenSince } = state.marker;

    const blue = await connect(targets(context).blue);
    try {
      await writableSession(blue);
      let drained = { sequencesCopied: 0, tablesCompared: 0 };
      let rollingBackSince = wasFrozen?.rollingBackSince;
      let doneAt = greenDoneAt;
      if (!doneAt) {
        // Closed by a run that died before green's part was done: open again to verify from the start.
        if (wasFrozen && !greenState.acceptsConnections) await allowConnections(greenAdmin, greenDatabase, true);
        ({ drained, rollingBackSince, doneAt } = await withDatabase(targets(context).green, async (green) => {
          await writableSession(green);
          const subscription = await subscriptionOn(blue, names.back);
          if (!subscription) throw refuse(`blue has no subscription ${names.back} though the marker says the rollback window is open; nothing was changed (see "bluegreen lag")`);
          if (!subscription.enabled) await blue.query(`ALTER SUBSCRIPTION ${blue.escapeIdentifier(names.back)} ENABLE`);
          const stays = wasFrozen ? `green stays read-only since ${wasFrozen.rollingBackSince}` : 'nothing was changed';
          const change: Switch = { direction: backward(names), source: green, sourceAdmin: greenAdmin, sourceDatabase: greenDatabase, target: blue };
          const refusals = await guardrails(context, change, options, !wasFrozen);
          if (refusals.length > 0) throw refuse(`not rolling back (DDL, large objects and tables without identity are not replicated): ${refusals.join('; ')}; ${stays}`);
          const sessions = await otherSessions(greenAdmin, greenDatabase, [green.pid]);
          if (sessions.length > 0 && !options.terminate) throw refuse(`sessions still use green; stop them or add --terminate: ${describeSessions(sessions)}; ${stays}`);

          // Recorded before green is frozen, so that a frozen green is never without a record of it.
          const since = wasFrozen?.rollingBackSince ?? await serverNow(greenAdmin);
          if (!wasFrozen) await setMarker(admin, database, { state: 'rolling-back', name: names.publication, frozenSince: blueFrozenSince, cutOverAt, rollingBackSince: since });
          await freezeNewSessions(greenAdmin, greenDatabase, true);
          context.io.err(`green is read-only for new sessions since ${since}`);
          await context.reach?.('rollback:after-freeze');
          await endSessions(greenAdmin, sessions.map((s) => s.pid), clock, WAIT_MS, 'ending the sessions on green');

          const moved = await drainUnderLocks(context, change, options, sessions.length,
            'green stays read-only (run rollback again, or end-rollback to give green its writes back)', (point) => context.reach?.(`rollback:${point}`));
          // Blue holds everything: close green for good before the locks go, then record that on green.
          await allowConnections(greenAdmin, greenDatabase, false);
          await endOtherSessions(context, greenAdmin, greenDatabase, [green.pid], 'ending the sessions left on green');
          await context.reach?.('rollback:after-close');
          await green.query(`DROP PUBLICATION IF EXISTS ${green.escapeIdentifier(names.back)}`);
          await dropReplicationUser(green, names);
          const finishedAt = await serverNow(green);
          await green.query(`COMMENT ON DATABASE ${green.escapeIdentifier(greenDatabase)} IS ${green.escapeLiteral(formatRolledBack(names.publication, finishedAt))}`);
          await green.query('COMMIT');
          return { drained: moved, rollingBackSince: since, doneAt: finishedAt };
        }));
      }
      await context.reach?.('rollback:after-green');
      rollingBackSince ??= doneAt;
      // One transaction: blue stops subscribing, loses its fence and takes writes, and the marker goes, or none of it.
      await blue.query('BEGIN');
      await unsubscribeBlue(context, blue);
      await freezeNewSessions(blue, database, false);
      await setMarker(blue, database, undefined);
      await blue.query('COMMIT');
      await context.reach?.('rollback:after-mark');
      await dropSlot(context, greenAdmin, greenDatabase, names.back);
      return { writeFreezeMs: await millisecondsBetween(admin, rollingBackSince, doneAt), frozenSince: rollingBackSince, rolledBackAt: doneAt, ...drained };
    } finally {
      await blue.end();
    }
  }));
  if (context.json) {
    if (!options.movesName) context.io.out(JSON.stringify(result));
  } else {
    context.io.out(`rolled back: writes were frozen for ${result.writeFreezeMs} ms (green read-only since ${result.frozenSince}, blue complete at ${result.rolledBackAt}); ` +
      `${result.sequencesCopied} sequences copied, ${result.tablesCompared > 0 ? `${result.tablesCompared} tables match` : 'row counts not compared'}; blue takes writes, green is closed`);
    if (!options.movesName) context.io.out('Now point Keycloak back at blue: run this rollback again with --environment <env> to move the writer DNS name (or change KC_DB_URL).');
  }
  return result;
}

/**
 * `end-rollback`: ends the rollback window, keeping green. Blue's subscription and fence go and blue
 * is closed for good (in that order, so blue is never open unfenced); then green's slot, publication
 * and replication user. After an interrupted rollback that had not finished green's part, green gets
 * its writes back first. Repeatable.
 */
export async function endRollback(context: BlueGreenContext): Promise<void> {
  const { names } = context;
  const greenDatabase = databaseOf(context.greenUrl);
  await step(context, (admin, database) => withDatabase(targets(context).greenAdmin, async (greenAdmin) => {
    const state = await blueDatabaseState(admin, database, names);
    if (!state.marker || state.marker.state === 'frozen') throw refuse('blue was not cut over: there is no rollback window to end');
    const greenState = await databaseState(greenAdmin, 'green', greenDatabase);
    if (state.marker.state === 'rolling-back') {
      const greenDoneAt = rolledBackAt(greenState.comment, names.publication);
      if (greenDoneAt) throw refuse(`the rollback moved all of green's writes to blue and closed green at ${greenDoneAt}: run rollback again to complete it`);
      await greenAdmin.query('BEGIN');
      await freezeNewSessions(greenAdmin, greenDatabase, false);
      await allowConnections(greenAdmin, greenDatabase, true);
      await greenAdmin.query('COMMIT');
      context.io.err(`green takes writes again: the rollback frozen since ${state.marker.rollingBackSince} is given up`);
    }
    const { cutOverAt, frozenSince } = state.marker;
    if (rollbackWindowOpen(state.marker)) {
      await withDatabase(targets(context).blue, async (blue) => {
        await writableSession(blue);
        await blue.query('BEGIN');
        await unsubscribeBlue(context, blue);
        await setMarker(blue, database, { state: 'cut-over', name: names.publication, frozenSince, cutOverAt, rollbackOpen: false });
        await blue.query('COMMIT');
      });
    }
    // From here nothing may reach blue: it has stopped receiving green's writes.
    await allowConnections(admin, database, false);
    await endOtherSessions(context, admin, database, [], 'ending the sessions left on blue');
    await withDatabase(targets(context).green, (green) => removeWayBack(context, green, greenAdmin));
  }));
  context.io.out(`rollback window ended: blue no longer receives green's writes and accepts no connections; green's slot ${names.back}, publication and replication user removed`);
}
