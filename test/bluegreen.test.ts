import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { awsClients, realClock } from '../cli/aws';
import { ExitCode } from '../cli/errors';
import { run } from '../cli/program';
import { PostgresServer, clonePostgres, postgresBinDir, startPostgres } from './postgres-harness';

const root = join(__dirname, '..');
const PASSWORD = 'replication-test-only';

/** Identity and serial keys, a free-standing sequence, and a table without a primary key. */
const SCHEMA = `
  CREATE TABLE realm (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, updated int NOT NULL DEFAULT 0);
  CREATE TABLE event (id serial PRIMARY KEY, realm_id bigint NOT NULL, payload text);
  CREATE SEQUENCE ticket_seq;
  CREATE TABLE audit (at timestamptz NOT NULL DEFAULT now(), note text);
  INSERT INTO realm (name) VALUES ('master'), ('customers'), ('partners');`;

/** Writes to blue the whole time, as Keycloak would, and remembers every write blue acknowledged. */
class Writer {
  readonly ackedEvents: number[] = [];
  readonly ackedUpdates = new Map<number, number>();
  ticketsHandedOut = 0;
  private running = true;
  private done?: Promise<void>;

  constructor(private readonly url: string) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    let client: Client | undefined;
    for (let i = 0; this.running; i++) {
      try {
        if (!client) {
          client = new Client({ connectionString: this.url, application_name: 'keycloak-writer' });
          client.on('error', () => undefined);
          await client.connect();
        }
        const { rows } = await client.query('INSERT INTO event (realm_id, payload) VALUES ($1, $2) RETURNING id', [1 + (i % 3), `event ${i}`]);
        this.ackedEvents.push(Number(rows[0].id));
        const realm = 1 + (i % 3);
        const updated = await client.query('UPDATE realm SET updated = updated + 1 WHERE id = $1 RETURNING updated', [realm]);
        this.ackedUpdates.set(realm, Number(updated.rows[0].updated));
        const ticket = await client.query("SELECT nextval('ticket_seq') AS n");
        this.ticketsHandedOut = Math.max(this.ticketsHandedOut, Number(ticket.rows[0].n));
        await client.query('INSERT INTO audit (note) VALUES ($1)', [`write ${i}`]);
      } catch {
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client?.end().catch(() => undefined);
  }
}

async function query(url: string, text: string, values: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

function runtime(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    runtime: { aws: awsClients(), clock: realClock, env, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } },
  };
}

describe('bluegreen on real PostgreSQL 15', () => {
  let blue: PostgresServer;
  let green: PostgresServer;
  let env: Record<string, string>;
  let writer: Writer;

  const bluegreen = async (...args: string[]) => {
    const { runtime: rt, out, err } = runtime(env);
    const code = await run(['bluegreen', ...args], rt);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  /** The real CLI in its own process, killed by itself at `failpoint`. */
  const bluegreenKilledAt = (failpoint: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin', 'keycloak-aurora-dr.js'), 'bluegreen', ...args], {
      env: { ...process.env, ...env, BLUEGREEN_FAILPOINT: failpoint },
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(async () => {
    [blue, green] = await Promise.all([startPostgres({ logical: true }), startPostgres()]);
    await query(blue.url(), 'CREATE DATABASE keycloak');
    await query(green.url(), 'CREATE DATABASE keycloak');
    env = {
      BLUEGREEN_BLUE_URL: blue.url('keycloak'),
      BLUEGREEN_GREEN_URL: green.url('keycloak'),
      BLUEGREEN_REPLICATION_PASSWORD: PASSWORD,
      BLUEGREEN_PG_BINDIR: postgresBinDir(),
    };
    const client = new Client({ connectionString: blue.url('keycloak') });
    await client.connect();
    await client.query(`${SCHEMA}
      INSERT INTO event (realm_id, payload) SELECT 1 + g % 3, 'seed ' || g FROM generate_series(1, 2000) g;`);
    await client.end();
    writer = new Writer(blue.url('keycloak'));
  }, 120_000);

  afterAll(async () => {
    await writer?.stop();
    blue?.stop();
    green?.stop();
  });

  test('check refuses a table without primary key or replica identity, naming it', async () => {
    const { code, out, err } = await bluegreen('check');
    expect(code).toBe(ExitCode.refused);
    expect(out).toMatch(/blue replica identity\s+FAILED\s+no primary key or replica identity, so updates and deletes cannot replicate: public.audit/);
    expect(err).toMatch(/check failed: blue replica identity/);
  });

  test('check passes once the table has a replica identity, and reports the settings', async () => {
    await query(blue.url('keycloak'), 'ALTER TABLE audit REPLICA IDENTITY FULL');
    const { code, out } = await bluegreen('check', '--json');
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out)).toContainEqual({ check: 'blue wal_level', ok: true, detail: 'logical' });
  });

  test('prepare refuses without the replication password, then creates publication and user, and is idempotent', async () => {
    const { runtime: rt, err } = runtime({ ...env, BLUEGREEN_REPLICATION_PASSWORD: '' });
    expect(await run(['bluegreen', 'prepare'], rt)).toBe(ExitCode.refused);
    expect(err.join('\n')).toMatch(/prepare needs the replication user's password in BLUEGREEN_REPLICATION_PASSWORD/);
    writer.start();
    for (let attempt = 0; attempt < 2; attempt++) {
      const { code, out } = await bluegreen('prepare');
      expect(code).toBe(ExitCode.ok);
      expect(out).not.toContain(PASSWORD);
    }
    expect(await query(blue.url('keycloak'), `SELECT pubname, puballtables FROM pg_publication`)).toEqual([{ pubname: 'keycloak_bluegreen', puballtables: true }]);
    expect(await query(blue.url('keycloak'), `SELECT rolreplication, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'keycloak_replicator'`)).toEqual([
      { rolreplication: true, rolsuper: false, rolcanlogin: true },
    ]);
  });

  test('attach killed after creating the slot leaves green untouched, and a re-run attaches', async () => {
    const killed = bluegreenKilledAt('attach:after-slot', 'attach');
    expect(killed.signal).toBe('SIGKILL');
    expect(await query(blue.url('keycloak'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([{ slot_name: 'keycloak_bluegreen' }]);
    expect(await query(green.url('keycloak'), `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).toEqual([{ n: 0 }]);

    const { code, out, err } = await bluegreen('attach');
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/attached green: subscription keycloak_bluegreen replicates from slot keycloak_bluegreen/);
    expect(`${out}\n${err}`).not.toContain(PASSWORD);
    await expect(bluegreen('attach')).resolves.toMatchObject({ code: 0, out: expect.stringMatching(/already attached/) });
  }, 60_000);

  test('lag reports bytes behind and falls to near zero while the writer keeps writing', async () => {
    let lag = Infinity;
    for (let i = 0; i < 100 && lag > 64 * 1024; i++) {
      const { code, out } = await bluegreen('lag', '--json');
      expect(code).toBe(ExitCode.ok);
      lag = JSON.parse(out).lagBytes;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(lag).toBeLessThanOrEqual(64 * 1024);
    const rows = await query(green.url('keycloak'), 'SELECT count(*)::int AS n FROM event');
    expect(rows[0].n).toBeGreaterThan(2000);
  }, 30_000);

  test('cutover refuses while sessions use blue, listing them, and changes nothing', async () => {
    const { code, err } = await bluegreen('cutover');
    expect(code).toBe(ExitCode.refused);
    expect(err).toMatch(/sessions still use blue; stop them or add --terminate: pid \d+ postgres@127.0.0.1 \(keycloak-writer, (idle|active)\)/);
    const readOnly = await query(blue.url('keycloak'), 'SHOW default_transaction_read_only');
    expect(readOnly).toEqual([{ default_transaction_read_only: 'off' }]);
  });

  test('cutover killed after freezing blue completes on a re-run: every acknowledged write is on green', async () => {
    const killed = bluegreenKilledAt('cutover:after-freeze', 'cutover', '--terminate');
    expect(killed.signal).toBe('SIGKILL');
    const { code, out } = await bluegreen('cutover', '--terminate', '--json');
    expect(code).toBe(ExitCode.ok);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ sequencesCopied: 3, tablesCompared: 3 });
    expect(result.writeFreezeMs).toBeGreaterThanOrEqual(0);
    await writer.stop();

    const greenEvents = new Set((await query(green.url('keycloak'), 'SELECT id FROM event')).map((row) => Number(row.id)));
    const lost = writer.ackedEvents.filter((id) => !greenEvents.has(id));
    expect(writer.ackedEvents.length).toBeGreaterThan(50);
    expect(lost).toEqual([]);
    const greenRealms = new Map((await query(green.url('keycloak'), 'SELECT id, updated FROM realm')).map((row) => [Number(row.id), Number(row.updated)]));
    for (const [realm, updated] of writer.ackedUpdates) expect(greenRealms.get(realm)).toBeGreaterThanOrEqual(updated);

    for (const table of ['realm', 'event', 'audit']) {
      const [onBlue, onGreen] = await Promise.all([
        query(blue.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
        query(green.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
      ]);
      expect(onGreen).toEqual(onBlue);
    }
  }, 90_000);

  test('after cut-over green hands out sequence values beyond every value blue handed out', async () => {
    const maxEvent = Math.max(...writer.ackedEvents);
    const [ticket] = await query(green.url('keycloak'), "SELECT nextval('ticket_seq')::bigint AS n");
    expect(Number(ticket.n)).toBeGreaterThan(writer.ticketsHandedOut);
    const [event] = await query(green.url('keycloak'), "INSERT INTO event (realm_id, payload) VALUES (1, 'on green') RETURNING id");
    expect(Number(event.id)).toBeGreaterThan(maxEvent);
    const [{ max }] = await query(blue.url('keycloak'), 'SELECT max(id)::bigint AS max FROM realm');
    const [realm] = await query(green.url('keycloak'), "INSERT INTO realm (name) VALUES ('on green') RETURNING id");
    expect(Number(realm.id)).toBeGreaterThan(Number(max));
  });

  test('after cut-over blue refuses writes, the subscription and slot are gone, and re-runs refuse', async () => {
    await expect(query(blue.url('keycloak'), "INSERT INTO audit (note) VALUES ('late')")).rejects.toThrow(/cannot execute INSERT in a read-only transaction/);
    expect(await query(green.url('keycloak'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url('keycloak'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    await expect(bluegreen('cutover')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/already cut over/) });
    await expect(bluegreen('abort')).resolves.toMatchObject({ code: ExitCode.refused, err: expect.stringMatching(/cut-over has completed/) });
  });

  test('abort before cut-over removes subscription, slot, publication and user, and leaves blue writable', async () => {
    await query(blue.url(), 'CREATE DATABASE spare');
    await query(green.url(), 'CREATE DATABASE spare');
    await query(blue.url('spare'), 'CREATE TABLE item (id serial PRIMARY KEY, v text); INSERT INTO item (v) VALUES (\'a\')');
    // Slots and roles belong to the whole server, so a second run on the same servers takes its own names.
    const spare = { ...env, BLUEGREEN_BLUE_URL: blue.url('spare'), BLUEGREEN_GREEN_URL: green.url('spare'), BLUEGREEN_NAME: 'spare_bluegreen', BLUEGREEN_REPLICATION_USER: 'spare_replicator' };
    const step = async (...args: string[]) => {
      const { runtime: rt, err } = runtime(spare);
      const code = await run(['bluegreen', ...args], rt);
      if (code !== 0) throw new Error(err.join('\n'));
    };
    await step('prepare');
    await step('attach');
    await step('abort');
    expect(await query(green.url('spare'), 'SELECT subname FROM pg_subscription')).toEqual([]);
    expect(await query(blue.url('spare'), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(await query(blue.url('spare'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    expect(await query(blue.url('spare'), "SELECT rolname FROM pg_roles WHERE rolname = 'spare_replicator'")).toEqual([]);
    await expect(query(blue.url('spare'), "INSERT INTO item (v) VALUES ('b') RETURNING id")).resolves.toHaveLength(1);
  }, 60_000);
});

describe('bluegreen with green cloned from blue (the Aurora clone path) on real PostgreSQL 15', () => {
  let blue: PostgresServer;
  let green: PostgresServer | undefined;
  let writer: Writer;
  let env: Record<string, string>;
  const step = async (environment: Record<string, string>, ...args: string[]) => {
    const { runtime: rt, out, err } = runtime(environment);
    const code = await run(['bluegreen', ...args], rt);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    blue = await startPostgres({ logical: true });
    await query(blue.url(), 'CREATE DATABASE keycloak');
    await query(blue.url('keycloak'), `${SCHEMA}
      ALTER TABLE audit REPLICA IDENTITY FULL;`);
    env = { BLUEGREEN_BLUE_URL: blue.url('keycloak'), BLUEGREEN_REPLICATION_PASSWORD: PASSWORD, BLUEGREEN_PG_BINDIR: postgresBinDir() };
    writer = new Writer(blue.url('keycloak'));
    writer.start();
  }, 60_000);

  afterAll(async () => {
    await writer?.stop();
    blue?.stop();
    green?.stop();
  });

  test('the slot made before the clone and the origin advanced to the clone\'s LSN lose and repeat nothing', async () => {
    expect((await step({ ...env, BLUEGREEN_GREEN_URL: blue.url('keycloak') }, 'prepare', '--for-clone')).code).toBe(ExitCode.ok);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const clone = await clonePostgres(blue);
    green = clone.server;
    const withGreen = { ...env, BLUEGREEN_GREEN_URL: green.url('keycloak') };

    const noLsn = await step(withGreen, 'attach', '--clone');
    expect(noLsn.code).toBe(ExitCode.refused);
    expect(noLsn.err).toMatch(/green has no aurora_volume_logical_start_lsn\(\); give the LSN the clone is consistent at with --clone-lsn/);

    // Without the origin advance, changes already in the clone are applied again: keys collide,
    // green never catches up, and the cut-over times out (checked by running it with 0/1).
    const attached = await step(withGreen, 'attach', '--clone-lsn', clone.consistentLsn);
    expect(attached).toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/attached the clone/) });
    expect(await query(green.url('keycloak'), 'SELECT pubname FROM pg_publication')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const cut = await step(withGreen, 'cutover', '--terminate', '--json');
    expect(cut.code).toBe(ExitCode.ok);
    await writer.stop();

    const greenEvents = (await query(green.url('keycloak'), 'SELECT id FROM event')).map((row) => Number(row.id));
    expect(writer.ackedEvents.length).toBeGreaterThan(20);
    expect(writer.ackedEvents.filter((id) => !greenEvents.includes(id))).toEqual([]);
    // Applied once: a change both in the clone and replicated again would duplicate audit rows or fail on a key.
    for (const table of ['realm', 'event', 'audit']) {
      const [[onBlue], [onGreen]] = await Promise.all([
        query(blue.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
        query(green.url('keycloak'), `SELECT count(*)::int AS n FROM ${table}`),
      ]);
      expect(onGreen).toEqual(onBlue);
    }
    const [ticket] = await query(green.url('keycloak'), "SELECT nextval('ticket_seq')::bigint AS n");
    expect(Number(ticket.n)).toBeGreaterThan(writer.ticketsHandedOut);
  }, 90_000);
});
