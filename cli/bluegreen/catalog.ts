/** What the blue/green steps read from a database's catalog, and ending sessions there. */
import { Clock, waitFor } from '../aws';
import { CliError, ExitCode } from '../errors';
import { formatDuration } from '../output';
import { Sql, scalar } from './database';

/** Schemas of the user's objects: not the system's, not TOAST, not temporary. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'`;
/** Objects an extension owns are made by CREATE EXTENSION, not by the user. */
const NOT_EXTENSION_MEMBER = (oid: string, catalog: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

export interface LeafTable {
  /** Schema-qualified and quoted where needed, ready for SQL: `public."Mixed"`. */
  readonly name: string;
  /** Its schema, quoted where needed. */
  readonly schema: string;
  readonly unlogged: boolean;
  readonly replicatesUpdates: boolean;
  /** The partitioned table this one is a partition of, at the root. */
  readonly partitionOf: string | null;
}

/**
 * The tables that hold rows: plain tables and partitions, not partitioned parents. A publication
 * publishes each partition's changes with the partition's own replica identity, so that is where
 * identity must be checked; the parent's is never used.
 */
export async function leafTables(sql: Sql): Promise<LeafTable[]> {
  const { rows } = await sql.query(`
    SELECT format('%I.%I', n.nspname, c.relname) AS name, quote_ident(n.nspname) AS schema, c.relpersistence = 'u' AS unlogged,
           CASE c.relreplident
             WHEN 'f' THEN true
             WHEN 'd' THEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
             WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
             ELSE false END AS replicates_updates,
           CASE WHEN c.relispartition THEN (SELECT format('%I.%I', rn.nspname, r.relname) FROM pg_class r
             JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = pg_partition_root(c.oid)) END AS partition_of
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER('c.oid', 'pg_class')}
     ORDER BY 1`);
  return rows.map((row) => ({ name: row.name, schema: row.schema, unlogged: row.unlogged, replicatesUpdates: row.replicates_updates, partitionOf: row.partition_of }));
}

/** Something on blue that logical replication would lose, or that would make blue refuse writes once published. */
export interface ReplicationProblem {
  readonly check: string;
  readonly problem: string;
  /** Each object with its fix. */
  readonly objects: readonly string[];
}

/** Everything `check` and `prepare` refuse, each object named with the fix that works for it. */
export async function replicationProblems(blue: Sql): Promise<ReplicationProblem[]> {
  const tables = await leafTables(blue);
  const problems: ReplicationProblem[] = [];
  const withoutIdentity = tables.filter((table) => !table.replicatesUpdates && !table.unlogged);
  if (withoutIdentity.length > 0) {
    problems.push({
      check: 'blue replica identity',
      problem: 'no primary key or replica identity, so updates and deletes cannot replicate (and blue refuses them once published)',
      objects: withoutIdentity.map((table) =>
        table.partitionOf
          ? `${table.name}, a partition of ${table.partitionOf} (fix: ALTER TABLE ${table.name} REPLICA IDENTITY FULL, or a primary key on ${table.partitionOf}, which every partition gets)`
          : `${table.name} (fix: add a primary key, or ALTER TABLE ${table.name} REPLICA IDENTITY FULL)`),
    });
  }
  const unlogged = tables.filter((table) => table.unlogged);
  if (unlogged.length > 0) {
    problems.push({
      check: 'blue unlogged tables',
      problem: 'unlogged, so logical replication carries none of their changes',
      objects: unlogged.map((table) => `${table.name} (fix: ALTER TABLE ${table.name} SET LOGGED)`),
    });
  }
  const largeObjects = Number(await scalar<string>(blue, 'SELECT count(*) FROM pg_largeobject_metadata'));
  if (largeObjects > 0) {
    problems.push({
      check: 'blue large objects',
      problem: 'logical replication does not carry large objects',
      objects: [`${largeObjects} large object(s) (fix: keep the data in bytea columns, or copy the large objects to green after the cut-over yourself)`],
    });
  }
  const { rows: unreadable } = await blue.query(`
    SELECT format('%I.%I', n.nspname, c.relname) AS name, quote_ident(current_user) AS runner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1`);
  if (unreadable.length > 0) {
    problems.push({
      check: 'blue sequences readable',
      problem: 'cut-over copies every sequence to green, and cannot read these',
      objects: unreadable.map((row) => `${row.name} (fix: GRANT SELECT ON SEQUENCE ${row.name} TO ${row.runner}, or run as its owner)`),
    });
  }
  return problems;
}

/** Materialized views: copied by `attach` as they were, never kept current by replication. */
export async function materializedViews(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query(`SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ${USER_SCHEMA} ORDER BY 1`);
  return rows.map((row) => row.name);
}

/** The user's schemas, relations, types and functions: what a copy of blue would collide with. */
export async function userObjects(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query(`
    SELECT format('schema %I', n.nspname) AS object FROM pg_namespace n
     WHERE ${USER_SCHEMA} AND n.nspname <> 'public' AND ${NOT_EXTENSION_MEMBER('n.oid', 'pg_namespace')}
    UNION ALL
    SELECT format('%s %I.%I', CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END, n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER('c.oid', 'pg_class')}
       AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT format('type %I.%I', n.nspname, t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd', 'r', 'm') AND ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER('t.oid', 'pg_type')}
    UNION ALL
    SELECT format('function %I.%I', n.nspname, p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION_MEMBER('p.oid', 'pg_proc')}
    ORDER BY 1`);
  return rows.map((row) => row.object);
}

export interface SequenceInfo {
  readonly name: string;
  readonly increment: bigint;
  readonly cycle: boolean;
}

export async function sequences(sql: Sql): Promise<SequenceInfo[]> {
  const { rows } = await sql.query(`SELECT format('%I.%I', schemaname, sequencename) AS name, increment_by::text AS increment, cycle
    FROM pg_sequences WHERE schemaname !~ '^pg_(toast|temp)' ORDER BY 1`);
  return rows.map((row) => ({ name: row.name, increment: BigInt(row.increment), cycle: row.cycle }));
}

/** Read from the sequence itself: `pg_sequences` shows null where privileges are missing, and this fails loudly. */
export async function readSequence(sql: Sql, name: string): Promise<{ lastValue: bigint; isCalled: boolean }> {
  const { rows } = await sql.query(`SELECT last_value::text AS last_value, is_called FROM ${name}`);
  return { lastValue: BigInt(rows[0].last_value), isCalled: rows[0].is_called };
}

export interface Session {
  readonly pid: number;
  readonly usename: string;
  readonly application_name: string;
  readonly client_addr: string | null;
  readonly state: string;
}

/** Client sessions on `database` other than `except` (the runner's own connections). */
export async function otherSessions(sql: Sql, database: string, except: readonly number[]): Promise<Session[]> {
  const { rows } = await sql.query(
    `SELECT pid, usename, application_name, host(client_addr) AS client_addr, state FROM pg_stat_activity
      WHERE datname = $1 AND backend_type = 'client backend' AND pid <> ALL ($2::int[]) ORDER BY pid`,
    [database, except],
  );
  return rows as Session[];
}

export function describeSessions(sessions: readonly Session[]): string {
  return sessions.map((s) => `pid ${s.pid} ${s.usename}@${s.client_addr ?? 'local'} (${s.application_name || 'no name'}, ${s.state})`).join('; ');
}

/**
 * Ends the sessions `pids` and waits until their server processes are gone: `pg_terminate_backend`
 * only signals, and a session that has not exited may still commit.
 */
export async function endSessions(sql: Sql, pids: readonly number[], clock: Clock, timeoutMs: number, what: string): Promise<void> {
  if (pids.length === 0) return;
  await sql.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  let left: number[] = [];
  const gone = await waitFor(clock, clock.now() + timeoutMs, 50, async () => {
    left = (await sql.query('SELECT pid FROM pg_stat_activity WHERE pid = ANY ($1::int[])', [pids])).rows.map((row) => row.pid);
    return left.length === 0 || undefined;
  });
  if (!gone) throw new CliError(`${what}: session(s) ${left.join(', ')} did not exit within ${formatDuration(timeoutMs)} of being terminated`, ExitCode.stopped);
}

/** Every column of every leaf table, as `table.column type` (with its type modifiers), for comparing blue and green. */
export async function tableColumns(sql: Sql): Promise<Map<string, string>> {
  const { rows } = await sql.query(`
    SELECT format('%I.%I', n.nspname, c.relname) AS table_name, quote_ident(a.attname) AS column_name,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND a.attnum > 0 AND NOT a.attisdropped AND ${USER_SCHEMA}
       AND ${NOT_EXTENSION_MEMBER('c.oid', 'pg_class')}`);
  return new Map(rows.map((row) => [`${row.table_name}.${row.column_name}`, `${row.type}${row.not_null ? ' not null' : ''}`]));
}

/** Columns that differ between blue and green: on one side only, or of another type. */
export function columnDrift(blue: ReadonlyMap<string, string>, green: ReadonlyMap<string, string>, tables: ReadonlySet<string>): string[] {
  const inShared = (column: string) => tables.has(column.slice(0, column.lastIndexOf('.')));
  const drift: string[] = [];
  for (const [column, type] of blue) {
    if (!inShared(column)) continue;
    const other = green.get(column);
    if (other === undefined) drift.push(`column ${column} only on blue`);
    else if (other !== type) drift.push(`column ${column} is ${type} on blue, ${other} on green`);
  }
  for (const column of green.keys()) if (inShared(column) && !blue.has(column)) drift.push(`column ${column} only on green`);
  return drift;
}

/** Transactions on blue a freeze cannot wait out: prepared ones (no session to end) and ones open longer than the bound. */
export async function blockingTransactions(sql: Sql, database: string, maxAgeSeconds: number, except: readonly number[]): Promise<string[]> {
  const prepared = await sql.query('SELECT gid, owner, prepared FROM pg_prepared_xacts WHERE database = $1 ORDER BY prepared', [database]);
  const long = await sql.query(`
    SELECT pid, usename, application_name, round(extract(epoch FROM clock_timestamp() - xact_start))::int AS age
      FROM pg_stat_activity
     WHERE datname = $1 AND xact_start IS NOT NULL AND clock_timestamp() - xact_start > make_interval(secs => $2) AND NOT (pid = ANY($3::int[]))
       AND backend_type = 'client backend'
     ORDER BY xact_start`, [database, maxAgeSeconds, except]);
  return [
    ...prepared.rows.map((row) => `prepared transaction ${JSON.stringify(row.gid)} of ${row.owner} since ${new Date(row.prepared).toISOString()} (COMMIT PREPARED or ROLLBACK PREPARED it)`),
    ...long.rows.map((row) => `transaction of pid ${row.pid} (${row.usename}${row.application_name ? `, ${row.application_name}` : ''}) open for ${row.age} s`),
  ];
}
