import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { reconcile } from '../functions/writer-dns/reconcile';
import { NAME, ZONE_ID, Zone } from './route53-zone';
import { ACCOUNT, GLOBAL_ENDPOINT, configFor } from './writer-dns-fixtures';
import { awsClients, realClock } from '../cli/aws';
import { STEP_LOCK_CLASS, lockKey } from '../cli/bluegreen/copy';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { FIXES, GATE, KEYCLOAK_LIKE_SCHEMA, Writer, missingOn, startKeycloakLike } from './bluegreen-writer';
import { PostgresServer, clonePostgres, freePort, postgresBinDir, startPostgres } from './postgres-harness';
import { prodEnvironmentsFile } from './prod-blue-green';

const root = join(__dirname, '..');
const PASSWORD = 'replication-test-only';

async function query(url: string, text: string, values: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Waits for `condition`, checking every 50 ms, failing after `timeoutMs` (a bound, not a synchronisation). */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Reach = (failpoint: string) => unknown;

function runtime(env: Record<string, string>, reach?: Reach) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    runtime: { aws: awsClients(), clock: realClock, env, reach, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } },
  };
}

/** Runs a bluegreen step in this process. */
async function bluegreenIn(env: Record<string, string>, args: string[], reach?: Reach) {
  const { runtime: rt, out, err } = runtime(env, reach);
  const code = await run(['bluegreen', ...args], rt);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The real CLI in its own process, which kills itself (SIGKILL) at `failpoint`, leaving its children running. */
function bluegreenKilledAt(env: Record<string, string>, failpoint: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin', 'keycloak-aurora-dr.js'), 'bluegreen', ...args], {
    env: { ...process.env, ...env, BLUEGREEN_FAILPOINT: failpoint },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const GREEN_ENDPOINT = 'keycloak-prod-eu-west-1-green.cluster-c9akciq32x1p.eu-west-1.rds.amazonaws.com';

/** Cut-over closes blue's database; a test opens it again to look. */
const reopen = (server: PostgresServer, database = 'keycloak') => query(server.url(), `ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);

const userObjectCount = async (url: string) =>
  Number((await query(url, `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'kc') AND c.relkind IN ('r', 'p')`))[0].n);

describe('bluegreen on real PostgreSQL 15, a Keycloak-like schema, a live writer and killed runs', () => {
  let blue: PostgresServer;
  let green: PostgresServer;
  let env: Record<string, string>;
  let writer: Writer;
  const stubborn: Writer[] = [];
  /** prod's writer zone from the cut-over on: the name moves to green there, and back at the rollback. */
  const zone = new Zone();
  const bluegreen = (...args: string[]) => bluegreenIn(env, args);

  beforeAll(async () => {
    // Green publishes too: the rollback window's way back.
    [blue, green] = await Promise.all([startPostgres({ logical: true, settings: { max_prepared_transactions: '4' } }), startPostgres({ logical: true })]);
    await query(blue.url(), 'CREATE DATABASE keycloak');
    await query(green.url(), 'CREATE DATABASE keycloak');
    env = {
      BLUEGREEN_BLUE_URL: blue.url('keycloak'),
      BLUEGREEN_GREEN_URL: green.url('keycloak'),
      BLUEGREEN_REPLICATION_PASSWORD: PASSWORD,
      BLUEGREEN_PG_BINDIR: postgresBinDir(),
      // prod with its green: the name moves to a green the configuration has.
      KEYCLOAK_AURORA_DR_ENVIRONMENTS: prodEnvironmentsFile({ enabled: true, green: true }),
    };
    await query(blue.url('keycloak'), `${KEYCLOAK_LIKE_SCHEMA}${GATE}`);
    writer = new Writer(blue.url('keycloak'));
  }, 120_000);

  afterAll(async () => {
    await writer?.stop();
    for (const w of stubborn) await w.stop();
    blue?.stop();
    green?.stop();
  });

  test('check names every table, partition, unlogged table and large object that replication would lose, with its fix', async () => {
    const { code, out, err } = await bluegreen('check');
    expect(code).toBe(ExitCode.refused);
    expect(out).toMatch(/blue replica identity\s+FAILED\s+no primary key or replica identity, so updates and deletes cannot replicate/);
    expect(out).toContain('public.audit (fix: add a primary key, or ALTER TABLE public.audit REPLICA IDENTITY FULL)');
    // The partitions, not the parent: a parent's replica identity never reaches them.
    expect(out).toContain('public.login_log_2026, a partition of public.login_log (fix: ALTER TABLE public.login_log_2026 REPLICA IDENTITY FULL');
    expect(out).toContain('public.login_log_2027, a partition of public.login_log');
    expect(out).not.toMatch(/[:;] public\.login_log \(/);
    expect(out).toMatch(/blue unlogged tables\s+FAILED\s+unlogged, so logical replication carries none of their changes: public.cache_entry \(fix: ALTER TABLE public.cache_entry SET LOGGED\)/);
    expect(out).toMatch(/blue large objects\s+FAILED\s+logical replication does not carry large objects: 1 large object/);
    expect(err).toMatch(/^error: check failed: blue replica identity: .*; blue unlogged tables: .*; blue large objects: /);
  });

  test('prepare refuses the same and changes nothing; blue keeps taking updates on every partition', async () => {
    const { code, err } = await bluegreen('prepare');
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(/nothing was changed: no primary key or replica identity/);
    expect(await query(blue.url('keycloak'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(blue.url('keycloak'), "SELECT rolname FROM pg_roles WHERE rolname = 'keycloak_replicator'")).toEqual([]);
  });

  test('the fixes check advises make it pass, and the descending sequence is no problem', async () => {
    await query(blue.url('keycloak'), FIXES);
    const { code, out } = await bluegreen('check', '--json');
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out)).toContainEqual({ check: 'blue replica identity', ok: true, detail: 'every table can replicate updates and deletes' });
  });

  test('prepare refuses without the replication password, then creates publication and user, and is idempotent', async () => {
    const refused = await bluegreenIn({ ...env, BLUEGREEN_REPLICATION_PASSWORD: '' }, ['prepare']);
    expect(refused).toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/prepare needs the replication user's password in BLUEGREEN_REPLICATION_PASSWORD/) });
    writer.start();
    for (let attempt = 0; attempt < 2; attempt++) {
      const { code, out } = await bluegreen('prepare');
      expect(code).toBe(ExitCode.ok);
      expect(out).not.toContain(PASSWORD);
    }
    expect(await query(blue.url('keycloak'), 'SELECT pubname, puballtables FROM pg_publication')).toEqual([{ pubname: 'keycloak_bluegreen', puballtables: true }]);
    expect(await query(blue.url('keycloak'), `SELECT rolreplication, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'keycloak_replicator'`)).toEqual([
      { rolreplication: true, rolsuper: false, rolcanlogin: true },
    ]);
    // Published partitions still take updates (the writer updates login_log on both).
    await writer.acknowledge(20);
    expect(writer.unexpected).toEqual([]);
  });

  test('attach killed after creating the slot leaves green untouched', async () => {
    const killed = bluegreenKilledAt(env, 'attach:after-slot', 'attach');
    expect(killed.signal).toBe('SIGKILL');
    expect(await query(blue.url('keycloak'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([{ slot_name: 'keycloak_bluegreen' }]);
    expect(await userObjectCount(green.url('keycloak'))).toBe(0);
  }, 120_000);

  test('attach killed while the dump streams into green commits nothing (psql reads end-of-file inside its transaction)', async () => {
    const killed = bluegreenKilledAt(env, 'attach:streaming', 'attach');
    expect(killed.signal).toBe('SIGKILL');
    // Whatever the orphaned psql does from here, it can only roll back: wait until it has.
    await until('the orphaned copy to end', async () => (await query(green.url('keycloak'), "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'keycloak-aurora-dr bluegreen copy%'")).length === 0);
    expect(await userObjectCount(green.url('keycloak'))).toBe(0);
    expect(await query(green.url('keycloak'), 'SELECT subname FROM pg_subscription')).toEqual([]);
  }, 120_000);

  test('a re-run never races a killed run\'s psql that still holds the whole copy: it ends it, then attaches from its own slot', async () => {
    // The gate holds any restore of green's index on "gated": the killed run's psql stops there with
    // its whole script (COMMIT included) read, as a slow index build would.
    const gate = new Client({ connectionString: green.url('keycloak') });
    await gate.connect();
    await gate.query('SELECT pg_advisory_lock(4242)');
    const gatedAt = async () => (await query(green.url('keycloak'), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted`)).map((row) => Number(row.pid));
    let released = false;
    try {
      const killed = bluegreenKilledAt(env, 'attach:copy-sent', 'attach');
      expect(killed.signal).toBe('SIGKILL');
      await until('the orphaned psql to wait at the gate', async () => (await gatedAt()).length === 1);
      const [orphan] = await gatedAt();

      const rerun = bluegreen('attach');
      await until('the re-run to end the orphan', async () => (await query(green.url('keycloak'), 'SELECT pid FROM pg_stat_activity WHERE pid = $1', [orphan])).length === 0);
      // The orphan is gone before the re-run's own copy can commit: only now may the restore go on.
      await gate.query('SELECT pg_advisory_unlock(4242)');
      released = true;
      const { code, out, err } = await rerun;
      expect(err).toMatch(/ended 1 copy session\(s\) on green/);
      expect({ code, out }).toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/attached green: subscription keycloak_bluegreen replicates from slot keycloak_bluegreen/) });
      expect(`${out}\n${err}`).not.toContain(PASSWORD);
    } finally {
      if (!released) await gate.query('SELECT pg_advisory_unlock(4242)');
      await gate.end();
    }
    expect(await query(green.url('keycloak'), 'SELECT subname, subenabled FROM pg_subscription')).toEqual([{ subname: 'keycloak_bluegreen', subenabled: true }]);
    await expect(bluegreen('attach')).resolves.toMatchObject({ code: 0, out: expect.stringMatching(/already attached/) });
  }, 180_000);

  test('lag falls to near zero while the writer keeps writing', async () => {
    await until('green to catch up', async () => {
      const { code, out } = await bluegreen('lag', '--json');
      return code === ExitCode.ok && JSON.parse(out).lagBytes <= 64 * 1024;
    });
    await writer.acknowledge(10);
  }, 90_000);

  test('a second step waits for the one that holds the step lock instead of running beside it', async () => {
    const holder = new Client({ connectionString: blue.url('postgres') });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, $2)', [STEP_LOCK_CLASS, lockKey('keycloak/keycloak_bluegreen')]);
    let finished = false;
    const second = bluegreen('attach').then((result) => ((finished = true), result));
    await until('the second step to wait for the lock', async () =>
      (await query(blue.url('postgres'), `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND NOT granted`, [STEP_LOCK_CLASS])).length === 1);
    expect(finished).toBe(false);
    await holder.end();
    expect((await second).code).toBe(ExitCode.ok);
  }, 60_000);

  test('cutover refuses before the freeze, naming it: a column on one side only, a prepared or long transaction on blue, green too far behind', async () => {
    const readOnlyForNewSessions = async () => (await query(blue.url('keycloak'), "SELECT current_setting('default_transaction_read_only') AS v"))[0].v;
    // DDL run on blue only: the column would never reach green.
    await query(blue.url('keycloak'), 'ALTER TABLE audit ADD COLUMN reviewer text');
    const drift = await bluegreen('cutover', '--terminate');
    expect(drift.code).toBe(ExitCode.refused);
    expect(drift.err).toMatch(/not cutting over .*column public\.audit\.reviewer only on blue.*; nothing was changed/);
    const checked = await bluegreen('check');
    expect(checked.out).toMatch(/blue and green schemas\s+FAILED\s+column public\.audit\.reviewer only on blue \(DDL is not replicated: run it on both sides\)/);
    await query(green.url('keycloak'), 'ALTER TABLE audit ADD COLUMN reviewer text');

    // A prepared transaction has no session a freeze could end.
    await query(blue.url('keycloak'), "BEGIN; PREPARE TRANSACTION 'kc-batch'");
    const prepared = await bluegreen('cutover', '--terminate');
    expect(prepared.err).toMatch(/prepared transaction "kc-batch" of postgres since .* \(COMMIT PREPARED or ROLLBACK PREPARED it\)/);
    await query(blue.url('keycloak'), "ROLLBACK PREPARED 'kc-batch'");

    // A transaction open longer than the bound.
    const holder = new Client({ connectionString: blue.url('keycloak'), application_name: 'long report' });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT txid_current()');
    while (Number((await query(blue.url(), "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0) AS age FROM pg_stat_activity WHERE application_name = 'long report'"))[0].age) < 1.5) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const long = await bluegreen('cutover', '--terminate', '--max-transaction-seconds', '1');
    expect(long.err).toMatch(/transaction of pid \d+ \(postgres, long report\) open for \d+ s/);
    await holder.query('ROLLBACK');
    await holder.end();

    // Green's apply held up behind a lock while the writer keeps writing: green falls behind.
    const locker = new Client({ connectionString: green.url('keycloak') });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE event IN ACCESS EXCLUSIVE MODE');
    while (JSON.parse((await bluegreen('lag', '--json')).out).lagBytes < 100_000) await new Promise((resolve) => setTimeout(resolve, 50));
    const behind = await bluegreen('cutover', '--terminate', '--max-lag-bytes', '50000');
    expect(behind.err).toMatch(/green is \d+ bytes behind blue, more than the 50000 allowed \(--max-lag-bytes\)/);
    await locker.query('ROLLBACK');
    await locker.end();

    for (const refused of [prepared, long, behind]) expect(refused.code).toBe(ExitCode.refused);
    expect(await readOnlyForNewSessions()).toBe('off');
    expect(await query(blue.url(), "SELECT datallowconn FROM pg_database WHERE datname = 'keycloak'")).toEqual([{ datallowconn: true }]);
  }, 120_000);

  test('cutover refuses while sessions use blue, listing them, and changes nothing', async () => {
    // The lag the guardrail test left must be caught up first, or that guardrail answers instead (however fast the machine).
    await until('green to catch up below the lag bound', async () => JSON.parse((await bluegreen('lag', '--json')).out).lagBytes < 64 * 1024 * 1024, 120_000);
    const { code, err } = await bluegreen('cutover');
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(/sessions still use blue; stop them or add --terminate: pid \d+ postgres@127.0.0.1 \(keycloak-writer, (idle|active)\); nothing was changed/);
    expect(await query(blue.url('keycloak'), 'SHOW default_transaction_read_only')).toEqual([{ default_transaction_read_only: 'off' }]);
  });

  test('cutover killed after freezing blue, re-run while clients that override read-only connect mid-freeze: nothing acknowledged is lost', async () => {
    const killedAt = Date.now();
    const killed = bluegreenKilledAt(env, 'cutover:after-freeze', 'cutover', '--terminate');
    expect(killed.signal).toBe('SIGKILL');
    // The old sessions were never ended: they keep writing on a blue that only new sessions see read-only.
    await writer.acknowledge(5);

    // The name still leads to blue: the killed run never reached the name step.
    zone.mock();
    zone.cname(NAME, GLOBAL_ENDPOINT);
    const greenArn = `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:keycloak-prod-eu-west-1-green`;
    const rdsMock = mockClient(RDSClient);
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'keycloak-prod-eu-west-1-green' })
      .resolves({ DBClusters: [{ DBClusterIdentifier: 'keycloak-prod-eu-west-1-green', DBClusterArn: greenArn, Endpoint: GREEN_ENDPOINT, Status: 'available' }] });
    mockClient(STSClient).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/dba/alice`, UserId: 'x' });

    const rerunStart = Date.now();
    const { code, out, err } = await bluegreenIn(env, ['cutover', '--terminate', '--json', '--environment', 'prod'], async (failpoint) => {
      if (failpoint !== 'cutover:after-freeze') return;
      // A client that connects after the runner listed the sessions, and turns read-only off.
      const late = new Writer(blue.url('keycloak'), { overrideReadOnly: true, name: 'late' });
      stubborn.push(late);
      late.start();
      await late.acknowledge(5);
    });
    expect({ code, err }).toMatchObject({ code: ExitCode.ok });
    const result = JSON.parse(out);
    expect(result).toMatchObject({ sequencesCopied: 5, tablesCompared: 11, rollbackOpen: true });
    // Frozen since the killed run: what writers saw, not this run's own time.
    expect(new Date(result.frozenSince).getTime()).toBeGreaterThanOrEqual(killedAt - 1000);
    expect(new Date(result.frozenSince).getTime()).toBeLessThan(rerunStart);
    expect(result.writeFreezeMs).toBe(new Date(result.cutOverAt).getTime() - new Date(result.frozenSince).getTime());
    // The last step: the writer's name on green, pinned, in sync; the freeze as clients of the name see it includes it.
    expect(result.writerName).toMatchObject({ name: NAME, target: GREEN_ENDPOINT, changed: true });
    expect(result.writeFreezeWithNameMs).toBe(result.writeFreezeMs + result.writerName.inSyncAfterMs);
    expect(zone.target(NAME)).toBe(GREEN_ENDPOINT);
    expect(zone.pin(NAME)).toContain(`"cluster=${greenArn}" "by=bluegreen cutover arn:aws:sts::${ACCOUNT}:assumed-role/dba/alice"`);
    // Blue's writer-DNS handler, on its schedule, still sees blue as its global cluster's writer: it keeps the name on green, without alarming.
    rdsMock.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [{ GlobalClusterIdentifier: 'keycloak-prod', Endpoint: GLOBAL_ENDPOINT, GlobalClusterMembers: [{ DBClusterArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:keycloak-prod-eu-west-1`, IsWriter: true }] }] });
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'keycloak-prod-eu-west-1' }).resolves({ DBClusters: [{ DBClusterIdentifier: 'keycloak-prod-eu-west-1', DBClusterArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:keycloak-prod-eu-west-1`, Status: 'available', Endpoint: 'keycloak-prod-eu-west-1.cluster-x.eu-west-1.rds.amazonaws.com', GlobalClusterIdentifier: 'keycloak-prod' }] });
    const config = { ...configFor('eu-west-1', 'global-writer'), recordName: NAME, hostedZoneId: ZONE_ID };
    const clock = { now: () => Date.now(), sleep: async () => undefined };
    const reconciled = await reconcile({ rds: new RDSClient({ region: 'eu-west-1' }), route53: new Route53Client({ region: 'eu-west-1' }) },
      { logger: { info: () => undefined, warn: () => undefined }, ...clock }, config, { kind: 'schedule', time: '' }, Date.now() + 60_000);
    expect(reconciled.decision).toEqual({ action: 'keep', target: GREEN_ENDPOINT });
    expect(zone.target(NAME)).toBe(GREEN_ENDPOINT);
    // A re-run finds the name moved and changes nothing.
    const again = await bluegreenIn(env, ['cutover', '--json', '--environment', 'prod']);
    expect(JSON.parse(again.out).writerName).toMatchObject({ changed: false });
    expect(zone.changes).toHaveLength(1);
    rdsMock.restore();

    // Nobody can commit on blue any more: it is read-only, and fenced against a client that turns that off.
    await expect(query(blue.url('keycloak'), "INSERT INTO audit (note) VALUES ('late')")).rejects.toThrow(/read-only transaction/);
    await expect(query(blue.url('keycloak'), "BEGIN READ WRITE; INSERT INTO audit (note) VALUES ('late'); COMMIT"))
      .rejects.toThrow(/blue was cut over to green at .*; it takes writes again only through bluegreen rollback/);
    await expect(query(blue.url('keycloak'), "BEGIN READ WRITE; TRUNCATE kc.client_attribute; COMMIT")).rejects.toThrow(/only through bluegreen rollback/);
    await writer.stop();
    for (const late of stubborn) await late.stop();
    expect(stubborn[0].count).toBeGreaterThanOrEqual(5);
    expect(await missingOn(green.url('keycloak'), [writer, ...stubborn])).toEqual([]);
    expect([...writer.unexpected, ...stubborn.flatMap((w) => w.unexpected)]).toEqual([]);
  }, 180_000);

  test('after cut-over green hands out sequence values beyond every value blue handed out, in each sequence\'s direction', async () => {
    const [ticket] = await query(green.url('keycloak'), 'INSERT INTO ticket DEFAULT VALUES RETURNING id, countdown');
    const writers = [writer, ...stubborn];
    expect(Number(ticket.id)).toBeGreaterThan(Math.max(...writers.map((w) => w.maxTicket)));
    expect(Number(ticket.countdown)).toBeLessThan(Math.min(...writers.map((w) => w.minCountdown)));
    const [event] = await query(green.url('keycloak'), "INSERT INTO event (realm_id, payload) VALUES (100, 'on green') RETURNING id");
    expect(Number(event.id)).toBeGreaterThan(Math.max(...writers.flatMap((w) => w.events)));
    const [realm] = await query(green.url('keycloak'), "INSERT INTO realm (name) VALUES ('on green') RETURNING id");
    expect(Number(realm.id)).toBeGreaterThan(Math.max(...writers.flatMap((w) => [...w.createdRealms])));
    expect((Number(realm.id) - 100) % 7).toBe(0);
  });

  test('after cut-over blue no longer publishes but receives green\'s writes; a re-run says so, abort and prepare refuse', async () => {
    expect(await query(green.url('keycloak'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(await query(blue.url(), "SELECT rolname FROM pg_roles WHERE rolname = 'keycloak_replicator'")).toEqual([]);
    expect(await query(blue.url('keycloak'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(blue.url('keycloak'), 'SELECT subname, subenabled FROM pg_subscription')).toEqual([{ subname: 'keycloak_bluegreen_back', subenabled: true }]);
    expect(await query(green.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([{ slot_name: 'keycloak_bluegreen_back' }]);
    await expect(bluegreen('cutover')).resolves.toMatchObject({ code: ExitCode.ok, err: expect.stringMatching(/the cut-over completed at .*\nrollback window open: blue receives every write green takes/) });
    await expect(bluegreen('abort')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/the cut-over completed at .*abort would give blue its writes back beside green: rollback moves them back/) });
    await expect(bluegreen('prepare')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/blue was cut over to green at .* and is retired/) });
    const lagged = await bluegreen('lag', '--json');
    expect(JSON.parse(lagged.out)).toMatchObject({ direction: 'green to blue', slot: 'keycloak_bluegreen_back', active: true });

    // The rows the test before wrote on green reach blue, and nothing else differs.
    const tables = ['realm', 'event', 'ticket', 'audit', 'login_log', 'kc.client', 'kc.client_attribute', '"UserSession"', 'cache_entry'];
    const counts = (url: string) => Promise.all(tables.map(async (table) => `${table} ${(await query(url, `SELECT count(*)::int AS n FROM ${table}`))[0].n}`));
    await until('blue to apply green\'s writes', async () => JSON.stringify(await counts(blue.url('keycloak'))) === JSON.stringify(await counts(green.url('keycloak'))));
  });

  test('rollback after writes on green, killed twice on the way, keeps every write acknowledged on either side and moves the name back', async () => {
    // Keycloak on green: writes acknowledged there must all reach blue.
    const onGreen = new Writer(green.url('keycloak'), { name: 'on-green' });
    onGreen.start();
    await onGreen.acknowledge(40);
    const markerOnBlue = async () => (await query(blue.url(), "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = 'keycloak'"))[0].c;

    const first = bluegreenKilledAt(env, 'rollback:after-lock', 'rollback', '--terminate');
    expect(first.signal).toBe('SIGKILL');
    expect(await markerOnBlue()).toMatch(/^keycloak-aurora-dr bluegreen keycloak_bluegreen: rolling back since \S+, cut over at \S+ with rollback open, frozen since \S+$/);
    // Green is read-only for the writer's new sessions; its old one was ended.
    await expect(query(green.url('keycloak'), "INSERT INTO audit (note) VALUES ('frozen')")).rejects.toThrow(/read-only transaction/);
    await expect(bluegreen('cutover')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/a rollback froze green at .*: run rollback again to complete it, or end-rollback to stay on green/) });

    const second = bluegreenKilledAt(env, 'rollback:after-green', 'rollback', '--terminate');
    expect(second.signal).toBe('SIGKILL');
    // Green's part is done (closed, and says so); blue is still fenced until its own transaction.
    await expect(query(green.url('keycloak'), 'SELECT 1')).rejects.toThrow(/not currently accepting connections/);
    expect((await query(green.url(), "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = 'keycloak'"))[0].c).toMatch(/rolled back to blue at /);
    await expect(query(blue.url('keycloak'), "BEGIN READ WRITE; INSERT INTO audit (note) VALUES ('early'); COMMIT")).rejects.toThrow(/only through bluegreen rollback/);
    await expect(bluegreen('end-rollback')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/the rollback moved all of green's writes to blue and closed green at .*: run rollback again/) });

    // The last run completes and moves the name back to blue's writer (the global writer endpoint), unpinned.
    const blueArn = `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:keycloak-prod-eu-west-1`;
    const rdsMock = mockClient(RDSClient);
    rdsMock.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [{ GlobalClusterIdentifier: 'keycloak-prod', Endpoint: GLOBAL_ENDPOINT, GlobalClusterMembers: [
      { DBClusterArn: blueArn, IsWriter: true }, { DBClusterArn: `arn:aws:rds:eu-central-1:${ACCOUNT}:cluster:keycloak-prod-eu-central-1`, IsWriter: false }] }] });
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'keycloak-prod-eu-west-1' }).resolves({ DBClusters: [{ DBClusterIdentifier: 'keycloak-prod-eu-west-1', DBClusterArn: blueArn, Status: 'available', Endpoint: 'keycloak-prod-eu-west-1.cluster-x.eu-west-1.rds.amazonaws.com', GlobalClusterIdentifier: 'keycloak-prod' }] });
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'keycloak-prod-eu-central-1' }).resolves({ DBClusters: [{ DBClusterIdentifier: 'keycloak-prod-eu-central-1', DBClusterArn: `arn:aws:rds:eu-central-1:${ACCOUNT}:cluster:keycloak-prod-eu-central-1`, Status: 'available', Endpoint: 'keycloak-prod-eu-central-1.cluster-x.eu-central-1.rds.amazonaws.com', GlobalClusterIdentifier: 'keycloak-prod' }] });
    expect(zone.pin(NAME)).toContain('by=bluegreen cutover');
    const { code, out, err } = await bluegreenIn(env, ['rollback', '--terminate', '--json', '--environment', 'prod']);
    rdsMock.restore();
    expect({ code, err }).toMatchObject({ code: ExitCode.ok });
    const result = JSON.parse(out);
    expect(result.writerName).toMatchObject({ name: NAME, target: GLOBAL_ENDPOINT, changed: true });
    expect(result.writeFreezeMs).toBe(new Date(result.rolledBackAt).getTime() - new Date(result.frozenSince).getTime());
    expect(zone.target(NAME)).toBe(GLOBAL_ENDPOINT);
    expect(zone.pin(NAME)).toBeUndefined();

    await onGreen.stop();
    expect(onGreen.unexpected).toEqual([]);
    expect(await missingOn(blue.url('keycloak'), [writer, ...stubborn, onGreen])).toEqual([]);
    // Blue takes writes again, and hands out sequence values beyond every one green handed out.
    const [ticket] = await query(blue.url('keycloak'), 'INSERT INTO ticket DEFAULT VALUES RETURNING id, countdown');
    expect(Number(ticket.id)).toBeGreaterThan(onGreen.maxTicket);
    expect(Number(ticket.countdown)).toBeLessThan(onGreen.minCountdown);
    const [realm] = await query(blue.url('keycloak'), "INSERT INTO realm (name) VALUES ('back on blue') RETURNING id");
    expect(Number(realm.id)).toBeGreaterThan(Math.max(...onGreen.createdRealms));
    expect(await markerOnBlue()).toBeNull();
    expect(await query(blue.url('keycloak'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url('keycloak'), "SELECT nspname FROM pg_namespace WHERE nspname = 'keycloak_bluegreen_fence'")).toEqual([]);
    expect(await query(green.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    await expect(query(green.url('keycloak'), 'SELECT 1')).rejects.toThrow(/not currently accepting connections/);

    // Repeatable, and nothing is left to end.
    await expect(bluegreen('rollback')).resolves.toMatchObject({ code: ExitCode.ok, err: expect.stringMatching(/the rollback completed at /) });
    await expect(bluegreen('end-rollback')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/there is no rollback window to end/) });
  }, 240_000);
});

describe('bluegreen failures: one line, the exit code, and the state left', () => {
  let blue: PostgresServer;
  let green: PostgresServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres({ logical: true })]);
    await query(blue.url(), 'CREATE DATABASE spare');
    await query(green.url(), 'CREATE DATABASE spare');
    await query(blue.url('spare'), "CREATE TABLE item (id serial PRIMARY KEY, v text); INSERT INTO item (v) VALUES ('a')");
    env = {
      BLUEGREEN_BLUE_URL: blue.url('spare'),
      BLUEGREEN_GREEN_URL: green.url('spare'),
      BLUEGREEN_REPLICATION_PASSWORD: PASSWORD,
      BLUEGREEN_PG_BINDIR: postgresBinDir(),
      BLUEGREEN_NAME: 'spare_bluegreen',
      BLUEGREEN_REPLICATION_USER: 'spare_replicator',
    };
  }, 60_000);

  afterAll(() => {
    blue?.stop();
    green?.stop();
  });

  test('an unreachable database is one line with exit 6, naming it and never the password', async () => {
    const port = await freePort();
    const { code, out, err } = await bluegreenIn({ ...env, BLUEGREEN_BLUE_URL: `postgres://postgres:secret-pw@127.0.0.1:${port}/spare` }, ['check']);
    expect(code).toBe(ExitCode.stopped);
    expect(out).toBe('');
    expect(err).toMatch(new RegExp(`^error: cannot connect to blue at 127.0.0.1:${port}/spare: .*ECONNREFUSED`));
    expect(err.split('\n')).toHaveLength(1);
    expect(err).not.toContain('secret-pw');
  });

  test('green refusing the copy is one line with exit 6 and the state: green untouched, and a re-run attaches', async () => {
    await bluegreenIn(env, ['prepare']);
    await query(green.url(), 'ALTER DATABASE spare SET default_transaction_read_only = on');
    const { code, err } = await bluegreenIn(env, ['attach']);
    expect(code).toBe(ExitCode.stopped);
    expect(err.split('\n').filter((line) => line.startsWith('error:'))).toEqual([
      expect.stringMatching(/^error: green refused the copy: psql ERROR: +cannot execute .* in a read-only transaction\. Now: blue takes writes; slot spare_bluegreen unused; green has no subscription and 0 object\(s\)$/),
    ]);
    expect(err).not.toContain(PASSWORD);
    await query(green.url(), 'ALTER DATABASE spare RESET default_transaction_read_only');
    await expect(bluegreenIn(env, ['attach'])).resolves.toMatchObject({ code: ExitCode.ok });
  }, 60_000);

  test('abort removes subscription, slot, publication and user, gives blue its writes back, and says what green keeps', async () => {
    const { code, out } = await bluegreenIn(env, ['abort']);
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/green keeps 1 object\(s\) copied from blue \(table public.item\); drop them or recreate green's database before attaching again/);
    expect(await query(green.url('spare'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url('spare'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(await query(blue.url('spare'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(blue.url('spare'), "SELECT rolname FROM pg_roles WHERE rolname = 'spare_replicator'")).toEqual([]);
    await expect(query(blue.url('spare'), "INSERT INTO item (v) VALUES ('b') RETURNING id")).resolves.toHaveLength(1);
  }, 60_000);

  test('attach on a green that already holds tables refuses before changing anything', async () => {
    await bluegreenIn(env, ['prepare']);
    const { code, err } = await bluegreenIn(env, ['attach']);
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(/green already has 1 object\(s\) \(table public.item\) but no subscription, .*nothing was changed/);
    expect(await query(blue.url('spare'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
  });

  test('a cutover frozen and killed, then aborted, gives blue back its writes and its connections', async () => {
    await query(green.url(), 'DROP DATABASE spare');
    await query(green.url(), 'CREATE DATABASE spare');
    expect((await bluegreenIn(env, ['attach'])).code).toBe(ExitCode.ok);
    const killed = bluegreenKilledAt(env, 'cutover:after-disallow', 'cutover', '--terminate', '--no-rollback');
    expect(killed.signal).toBe('SIGKILL');
    await expect(query(blue.url('spare'), 'SELECT 1')).rejects.toThrow(/not currently accepting connections/);
    await expect(bluegreenIn(env, ['abort'])).resolves.toMatchObject({ code: ExitCode.ok });
    await expect(query(blue.url('spare'), "INSERT INTO item (v) VALUES ('c') RETURNING id")).resolves.toHaveLength(1);
    expect(await query(blue.url(), "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = 'spare'")).toEqual([{ comment: null }]);
  }, 60_000);

  test('a cutover killed after recording the cut-over is finished by a re-run, and abort then refuses', async () => {
    await query(green.url(), 'DROP DATABASE spare');
    await query(green.url(), 'CREATE DATABASE spare');
    expect((await bluegreenIn(env, ['prepare'])).code).toBe(ExitCode.ok);
    expect((await bluegreenIn(env, ['attach'])).code).toBe(ExitCode.ok);
    const killed = bluegreenKilledAt(env, 'cutover:after-mark', 'cutover', '--terminate');
    expect(killed.signal).toBe('SIGKILL');
    expect(await query(green.url('spare'), 'SELECT subname FROM pg_subscription')).toHaveLength(1);
    await expect(bluegreenIn(env, ['abort'])).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/the cut-over completed at/) });
    const { code, out } = await bluegreenIn(env, ['cutover', '--json']);
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out).writeFreezeMs).toBeGreaterThanOrEqual(0);
    expect(await query(green.url('spare'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(await query(green.url('spare'), 'SELECT v FROM item ORDER BY id')).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
  }, 60_000);

  test('end-rollback keeps green: blue stops receiving its writes and is closed, green\'s slot, publication and user go, and rollback then refuses', async () => {
    await query(green.url('spare'), "INSERT INTO item (v) VALUES ('d')");
    await until('blue to receive the write on green', async () => (await query(blue.url('spare'), "SELECT 1 FROM item WHERE v = 'd'")).length === 1);
    for (let run = 0; run < 2; run++) {
      const { code, out } = await bluegreenIn(env, ['end-rollback']);
      expect({ code, out }).toEqual({ code: ExitCode.ok, out: expect.stringMatching(/^rollback window ended: blue no longer receives green's writes and accepts no connections/) });
    }
    await expect(query(blue.url('spare'), 'SELECT 1')).rejects.toThrow(/not currently accepting connections/);
    expect(await query(green.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(await query(green.url('spare'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(green.url(), "SELECT rolname FROM pg_roles WHERE rolname = 'spare_replicator'")).toEqual([]);
    await expect(query(green.url('spare'), "INSERT INTO item (v) VALUES ('e') RETURNING id")).resolves.toHaveLength(1);
    await expect(bluegreenIn(env, ['rollback'])).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/with no rollback window open .*moving back would lose them/) });
    await reopen(blue, 'spare');
    expect(await query(blue.url('spare'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url('spare'), "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).toEqual([]);
  }, 60_000);
});

describe('bluegreen with green cloned from blue (the Aurora clone path) on real PostgreSQL 15', () => {
  let blue: PostgresServer;
  let green: PostgresServer | undefined;
  let writer: Writer;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ server: blue, writer } = await startKeycloakLike());
    env = { BLUEGREEN_BLUE_URL: blue.url('keycloak'), BLUEGREEN_REPLICATION_PASSWORD: PASSWORD, BLUEGREEN_PG_BINDIR: postgresBinDir() };
  }, 60_000);

  afterAll(async () => {
    await writer?.stop();
    blue?.stop();
    green?.stop();
  });

  test('the slot made before the clone and the origin advanced to the clone\'s LSN lose and repeat nothing', async () => {
    expect((await bluegreenIn({ ...env, BLUEGREEN_GREEN_URL: blue.url('keycloak') }, ['prepare', '--for-clone'])).code).toBe(ExitCode.ok);
    await writer.acknowledge(10);
    const clone = await clonePostgres(blue);
    green = clone.server;
    // An Aurora clone also copies blue's slot (pg_basebackup copies none): left there, it would keep green's WAL for nobody.
    await query(green.url('keycloak'), "SELECT pg_create_logical_replication_slot('keycloak_bluegreen', 'pgoutput')");
    const withGreen = { ...env, BLUEGREEN_GREEN_URL: green.url('keycloak') };

    const noLsn = await bluegreenIn(withGreen, ['attach', '--clone']);
    expect(noLsn.code).toBe(ExitCode.refused);
    expect(noLsn.err).toMatch(/green has no aurora_volume_logical_start_lsn\(\); give the LSN the clone is consistent at with --clone-lsn/);

    // Without the origin advance, changes already in the clone are applied again: keys collide,
    // green never catches up, and the cut-over times out (checked by running it with 0/1).
    const attached = await bluegreenIn(withGreen, ['attach', '--clone-lsn', clone.consistentLsn]);
    expect(attached).toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/attached the clone/) });
    expect(await query(green.url('keycloak'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(green.url('keycloak'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    await writer.acknowledge(10);

    const cut = await bluegreenIn(withGreen, ['cutover', '--terminate', '--no-row-counts', '--json']);
    expect(cut.code).toBe(ExitCode.ok);
    expect(JSON.parse(cut.out)).toMatchObject({ tablesCompared: 0, sequencesCopied: 5 });
    await writer.stop();
    expect(await missingOn(green.url('keycloak'), [writer])).toEqual([]);
    await reopen(blue);
    // Applied once: a change both in the clone and replicated again would duplicate audit rows or fail on a key.
    for (const table of ['realm', 'event', 'audit', 'login_log']) {
      const [[onBlue], [onGreen]] = await Promise.all([
        query(blue.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
        query(green.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
      ]);
      expect(onGreen).toEqual(onBlue);
    }
    const [ticket] = await query(green.url('keycloak'), "SELECT nextval('ticket_seq')::bigint AS n");
    expect(Number(ticket.n)).toBeGreaterThan(writer.maxTicket);
  }, 120_000);
});

describe('bluegreen cut-over to a green that cannot publish (no rollback window possible)', () => {
  let blue: PostgresServer;
  let green: PostgresServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres()]);
    await query(blue.url(), 'CREATE DATABASE small');
    await query(green.url(), 'CREATE DATABASE small');
    await query(blue.url('small'), "CREATE TABLE item (id serial PRIMARY KEY, v text); INSERT INTO item (v) VALUES ('a')");
    env = { BLUEGREEN_BLUE_URL: blue.url('small'), BLUEGREEN_GREEN_URL: green.url('small'), BLUEGREEN_REPLICATION_PASSWORD: PASSWORD, BLUEGREEN_PG_BINDIR: postgresBinDir() };
    for (const stepName of ['prepare', 'attach']) expect((await bluegreenIn(env, [stepName])).code).toBe(ExitCode.ok);
  }, 60_000);

  afterAll(() => {
    blue?.stop();
    green?.stop();
  });

  test('check says so, cutover refuses before the freeze naming green\'s wal_level, and --no-rollback cuts over with blue closed', async () => {
    const checked = await bluegreenIn(env, ['check']);
    expect(checked.out).toMatch(/green publishes for the rollback window\s+FAILED\s+green's wal_level is replica, so blue cannot receive green's writes: set rds.logical_replication=1 .* \(or cut over with --no-rollback\)/);

    const refused = await bluegreenIn(env, ['cutover', '--terminate']);
    expect(refused).toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/not cutting over .*green's wal_level is replica.*\(or --no-rollback\); nothing was changed/) });
    await expect(query(blue.url('small'), "INSERT INTO item (v) VALUES ('b') RETURNING id")).resolves.toHaveLength(1);

    const { code, out } = await bluegreenIn(env, ['cutover', '--terminate', '--no-rollback', '--json']);
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out)).toMatchObject({ rollbackOpen: false, tablesCompared: 1 });
    await expect(query(blue.url('small'), 'SELECT 1')).rejects.toThrow(/not currently accepting connections/);
    expect(await query(green.url('small'), 'SELECT v FROM item ORDER BY id')).toEqual([{ v: 'a' }, { v: 'b' }]);
    await expect(bluegreenIn(env, ['rollback'])).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/no rollback window open/) });
  }, 60_000);
});
