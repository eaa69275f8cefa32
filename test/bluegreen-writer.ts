/**
 * A Keycloak-like schema and a writer that keeps writing to it as Keycloak would, remembering every
 * write the database acknowledged, so that a test can prove each one is on green after cut-over.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PostgresServer, startPostgres } from './postgres-harness';

/**
 * Enum, a second schema, uuid and varchar keys, composite keys, two levels of ON DELETE CASCADE,
 * serial, identity with a custom start and increment, sequences used by defaults (one descending),
 * a mixed-case quoted table with a generated column, a table without primary key (duplicate rows),
 * a partitioned table without primary key, an unlogged table, a large object, multi-kB bytea and text.
 * `check` must refuse the last four until they are fixed as it says.
 */
export const KEYCLOAK_LIKE_SCHEMA = `
  CREATE TYPE realm_kind AS ENUM ('master', 'tenant');
  CREATE SCHEMA kc;
  CREATE TABLE realm (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 7) PRIMARY KEY,
    name varchar(255) NOT NULL UNIQUE, kind realm_kind NOT NULL DEFAULT 'tenant', updated int NOT NULL DEFAULT 0);
  CREATE TABLE kc.client (id uuid PRIMARY KEY, realm_id bigint NOT NULL REFERENCES realm (id) ON DELETE CASCADE, secret bytea);
  CREATE TABLE kc.client_attribute (client_id uuid NOT NULL REFERENCES kc.client (id) ON DELETE CASCADE,
    name varchar(255) NOT NULL, value text, PRIMARY KEY (client_id, name));
  CREATE TABLE event (id serial PRIMARY KEY, realm_id bigint NOT NULL, payload text);
  CREATE SEQUENCE ticket_seq;
  CREATE SEQUENCE countdown_seq INCREMENT BY -1 MAXVALUE -1 START WITH -1;
  CREATE TABLE ticket (id bigint PRIMARY KEY DEFAULT nextval('ticket_seq'), countdown bigint NOT NULL DEFAULT nextval('countdown_seq'));
  CREATE TABLE "UserSession" (id varchar(36) PRIMARY KEY, "lastSeen" bigint NOT NULL,
    "lastSeenMinutes" bigint GENERATED ALWAYS AS ("lastSeen" / 60) STORED);
  CREATE TABLE audit (at timestamptz NOT NULL DEFAULT now(), note text);
  CREATE TABLE login_log (day date NOT NULL, id bigserial, note text) PARTITION BY RANGE (day);
  CREATE TABLE login_log_2026 PARTITION OF login_log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE login_log_2027 PARTITION OF login_log FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
  CREATE UNLOGGED TABLE cache_entry (key text PRIMARY KEY, value text);
  SELECT lo_from_bytea(0, 'a large object');
  INSERT INTO realm (name, kind) VALUES ('master', 'master'), ('customers', 'tenant'), ('partners', 'tenant');
  INSERT INTO event (realm_id, payload) SELECT 100 + 7 * (g % 3), repeat('seed ', 200) FROM generate_series(1, 1500) g;
  INSERT INTO audit (note) VALUES ('duplicate'), ('duplicate');
  INSERT INTO cache_entry VALUES ('k', 'v');`;

/** The fixes `check` advises for KEYCLOAK_LIKE_SCHEMA, exactly as it words them. */
export const FIXES = `
  ALTER TABLE public.audit REPLICA IDENTITY FULL;
  ALTER TABLE public.login_log_2026 REPLICA IDENTITY FULL;
  ALTER TABLE public.login_log_2027 REPLICA IDENTITY FULL;
  ALTER TABLE public.cache_entry SET LOGGED;
  SELECT lo_unlink(oid) FROM pg_largeobject_metadata;`;

/**
 * A function that waits while a test holds advisory lock 4242 in its database, and a table indexed by
 * it: restoring the index on green blocks there, so a test can hold a copy half-way on purpose.
 */
export const GATE = `
  CREATE FUNCTION gate(value int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
  BEGIN PERFORM pg_catalog.pg_advisory_lock_shared(4242); PERFORM pg_catalog.pg_advisory_unlock_shared(4242); RETURN value; END $$;
  CREATE TABLE gated (id int PRIMARY KEY);
  INSERT INTO gated VALUES (1), (2), (3);
  CREATE INDEX gated_by_gate ON gated (gate(id));`;

const YEARS = ['2026-06-01', '2027-06-01'];

/** Writes to blue the whole time and remembers every write blue acknowledged. */
export class Writer {
  readonly events: number[] = [];
  readonly realmUpdates = new Map<number, number>();
  readonly createdRealms = new Set<number>();
  readonly deletedRealms = new Set<number>();
  readonly clientsOfRealm = new Map<number, string>();
  readonly logins = new Map<number, string>();
  readonly sessions = new Map<string, number>();
  maxTicket = 0;
  minCountdown = 0;
  /** Errors other than a lost or refused connection, a read-only refusal or termination: none may happen. */
  readonly unexpected: string[] = [];
  private acknowledged = 0;
  private running = false;
  private done?: Promise<void>;
  private waiters: { count: number; resolve: () => void }[] = [];

  /** `overrideReadOnly`: the worst client, which turns a read-only default off on every connection. */
  constructor(private readonly url: string, private readonly options: { overrideReadOnly?: boolean; name?: string } = {}) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Acknowledged writes so far. */
  get count(): number {
    return this.acknowledged;
  }

  /** Resolves once `more` further writes have been acknowledged. */
  acknowledge(more: number): Promise<void> {
    const count = this.acknowledged + more;
    return new Promise((resolve) => {
      if (this.acknowledged >= count) resolve();
      else this.waiters.push({ count, resolve });
    });
  }

  private ack(): void {
    this.acknowledged++;
    this.waiters = this.waiters.filter((waiter) => (this.acknowledged >= waiter.count ? (waiter.resolve(), false) : true));
  }

  private async loop(): Promise<void> {
    let client: Client | undefined;
    for (let i = 0; this.running; i++) {
      try {
        if (!client) {
          client = new Client({ connectionString: this.url, application_name: this.options.name ?? 'keycloak-writer' });
          client.on('error', () => undefined);
          await client.connect();
          if (this.options.overrideReadOnly) await client.query('SET default_transaction_read_only = off');
        }
        await this.writeOnce(client, i);
      } catch (error) {
        const message = (error as Error).message;
        // Refusals of a frozen or fenced side, and the ends of connections a step ends or refuses.
        if (!/read-only transaction|only through bluegreen rollback|terminat|not currently accepting|ECONNREFUSED|Connection terminated|connection|shutdown/i.test(message)) this.unexpected.push(message);
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await client?.end().catch(() => undefined);
  }

  private async writeOnce(client: Client, i: number): Promise<void> {
    const realmIds = [100, 107, 114];
    const { rows: event } = await client.query('INSERT INTO event (realm_id, payload) VALUES ($1, $2) RETURNING id', [realmIds[i % 3], `event ${i} ${'x'.repeat(4000)}`]);
    this.events.push(Number(event[0].id));
    this.ack();
    const { rows: updated } = await client.query('UPDATE realm SET updated = updated + 1 WHERE id = $1 RETURNING updated', [realmIds[i % 3]]);
    this.realmUpdates.set(realmIds[i % 3], Number(updated[0].updated));
    this.ack();
    const { rows: ticket } = await client.query('INSERT INTO ticket DEFAULT VALUES RETURNING id, countdown');
    this.maxTicket = Math.max(this.maxTicket, Number(ticket[0].id));
    this.minCountdown = Math.min(this.minCountdown, Number(ticket[0].countdown));
    this.ack();
    const { rows: login } = await client.query('INSERT INTO login_log (day, note) VALUES ($1, $2) RETURNING id', [YEARS[i % 2], `login ${i}`]);
    await client.query('UPDATE login_log SET note = $2 WHERE id = $1', [login[0].id, `login ${i} seen`]);
    this.logins.set(Number(login[0].id), `login ${i} seen`);
    this.ack();
    await client.query("INSERT INTO audit (note) VALUES ($1), ($1)", [`twice ${i % 5}`]);
    this.ack();
    const session = `s-${this.options.name ?? 'w'}-${i % 7}`;
    await client.query(`INSERT INTO "UserSession" (id, "lastSeen") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET "lastSeen" = EXCLUDED."lastSeen"`, [session, i * 61]);
    this.sessions.set(session, i * 61);
    this.ack();
    const { rows: realm } = await client.query('INSERT INTO realm (name) VALUES ($1) RETURNING id', [`r-${this.options.name ?? 'w'}-${i}-${randomBytes(4).toString('hex')}`]);
    const realmId = Number(realm[0].id);
    this.createdRealms.add(realmId);
    const { rows: clientRow } = await client.query('INSERT INTO kc.client (id, realm_id, secret) VALUES (gen_random_uuid(), $1, $2) RETURNING id', [realmId, randomBytes(3000)]);
    await client.query('INSERT INTO kc.client_attribute (client_id, name, value) VALUES ($1, $2, $3)', [clientRow[0].id, 'redirect', 'y'.repeat(2000)]);
    this.clientsOfRealm.set(realmId, clientRow[0].id);
    this.ack();
    if (i % 4 === 3) {
      // Two levels of cascade: realm → client → attribute.
      const victim = [...this.createdRealms].find((id) => !this.deletedRealms.has(id));
      if (victim !== undefined) {
        await client.query('DELETE FROM realm WHERE id = $1', [victim]);
        this.deletedRealms.add(victim);
        this.ack();
      }
    }
  }
}

/** The rows of one query, over a connection of its own. */
export async function rowsOf(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** Everything `writers` saw acknowledged that the database at `url` does not hold, one line per difference. */
export async function missingOn(url: string, writers: readonly Writer[]): Promise<string[]> {
  const missing: string[] = [];
  const events = new Set((await rowsOf(url, 'SELECT id FROM event')).map((row) => Number(row.id)));
  const realms = new Map((await rowsOf(url, 'SELECT id, updated FROM realm')).map((row) => [Number(row.id), Number(row.updated)]));
  const clients = new Set((await rowsOf(url, 'SELECT id FROM kc.client')).map((row) => String(row.id)));
  const attributes = new Set((await rowsOf(url, 'SELECT client_id FROM kc.client_attribute')).map((row) => String(row.client_id)));
  const logins = new Map((await rowsOf(url, 'SELECT id, note FROM login_log')).map((row) => [Number(row.id), String(row.note)]));
  const sessions = new Map((await rowsOf(url, 'SELECT id, "lastSeen" FROM "UserSession"')).map((row) => [String(row.id), Number(row.lastSeen)]));
  for (const writer of writers) {
    for (const id of writer.events) if (!events.has(id)) missing.push(`event ${id}`);
    for (const [id, updated] of writer.realmUpdates) if ((realms.get(id) ?? -1) < updated) missing.push(`realm ${id} update ${updated} (found ${realms.get(id)})`);
    for (const id of writer.createdRealms) {
      const client = writer.clientsOfRealm.get(id)!;
      if (writer.deletedRealms.has(id)) {
        if (realms.has(id) || clients.has(client) || attributes.has(client)) missing.push(`delete of realm ${id} (and its cascade)`);
      } else if (!realms.has(id) || (client && (!clients.has(client) || !attributes.has(client)))) missing.push(`realm ${id} with its client`);
    }
    for (const [id, note] of writer.logins) if (logins.get(id) !== note) missing.push(`login ${id} (found ${logins.get(id)})`);
    for (const [id, lastSeen] of writer.sessions) if ((sessions.get(id) ?? -1) < lastSeen) missing.push(`session ${id} lastSeen ${lastSeen}`);
  }
  return missing;
}

/** A server that can publish, with a `keycloak` database of the schema as fixed for replication, and a writer writing to it. */
export async function startKeycloakLike(writerName?: string): Promise<{ server: PostgresServer; writer: Writer }> {
  const server = await startPostgres({ logical: true });
  await rowsOf(server.url(), 'CREATE DATABASE keycloak');
  await rowsOf(server.url('keycloak'), `${KEYCLOAK_LIKE_SCHEMA}${FIXES}`);
  const writer = new Writer(server.url('keycloak'), { name: writerName });
  writer.start();
  return { server, writer };
}
