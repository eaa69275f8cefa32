/**
 * The drill's write probe: a steady stream of small writes through the writer's DNS name, with the
 * timeouts Keycloak's JDBC URL uses, reconnecting after every failure as a connection pool does
 * (a new connection resolves the name again). It records when each write was acknowledged, so the
 * drill can say how long writes stopped and whether an acknowledged one was lost.
 */
import { Client } from 'pg';
import { FAST_FAILOVER_PROPERTIES } from '../../modules/keycloak-connection';

/** Where a connection goes: the host and port a new connection opens (the name, resolved by the OS, in production). */
export interface ProbeNetwork {
  endpoint(): Promise<{ host: string; port: number }>;
}

export interface ProbeEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly ok: boolean;
  /** Set on a write: its sequence number (acknowledged when ok). */
  readonly seq?: number;
  readonly error?: string;
}

/** PgJDBC's timeouts, as node-postgres spells them: a hung server costs what it costs Keycloak. */
export const PROBE_TIMEOUTS = {
  connectMs: Number(FAST_FAILOVER_PROPERTIES.connectTimeout) * 1000,
  statementMs: Number(FAST_FAILOVER_PROPERTIES.socketTimeout) * 1000,
};

const identifier = /^[a-z_][a-z0-9_]*$/;

export class WriteProbe {
  readonly events: ProbeEvent[] = [];
  private client?: Client;
  private running = false;
  private loop?: Promise<void>;
  private seq = 0;

  constructor(
    private readonly url: string,
    private readonly network: ProbeNetwork,
    readonly table: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!identifier.test(table)) throw new Error(`probe table ${table} is not a plain identifier`);
  }

  /** A new connection to wherever the name leads now; refused when that server is a standby (targetServerType=primary). */
  private async connect(): Promise<Client> {
    const { host, port } = await this.network.endpoint();
    const target = new URL(this.url);
    target.hostname = host;
    target.port = String(port);
    const client = new Client({
      connectionString: target.toString(),
      connectionTimeoutMillis: PROBE_TIMEOUTS.connectMs,
      query_timeout: PROBE_TIMEOUTS.statementMs,
      keepAlive: true,
      application_name: 'keycloak-aurora-dr drill',
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query('SELECT pg_is_in_recovery() AS standby');
      if (rows[0].standby) throw new Error('the server is a standby (targetServerType=primary refuses it)');
      return client;
    } catch (error) {
      this.drop(client);
      throw error;
    }
  }

  /** Throws the connection away without waiting for a hung server to say goodbye. */
  private drop(client: Client | undefined): void {
    if (!client) return;
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
  }

  /** Creates the probe table on the writer the name leads to. */
  async prepare(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query(`CREATE TABLE ${this.table} (seq integer PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    } finally {
      this.drop(client);
    }
  }

  /** Starts writing, one write every interval (one at a time, as one pooled connection would). */
  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const began = this.now();
        await this.writeOnce();
        const wait = this.intervalMs - (this.now() - began);
        if (wait > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  private async writeOnce(): Promise<void> {
    const seq = ++this.seq;
    try {
      this.client ??= await this.connect();
      await this.client.query(`INSERT INTO ${this.table} (seq) VALUES ($1)`, [seq]);
      this.events.push({ at: this.now(), ok: true, seq });
    } catch (error) {
      this.events.push({ at: this.now(), ok: false, seq, error: (error as Error).message.replace(/\s+/g, ' ').slice(0, 200) });
      this.drop(this.client);
      this.client = undefined;
    }
  }

  /** Stops after the write in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.drop(this.client);
    this.client = undefined;
  }

  /** The sequence numbers the writer the name leads to holds now. */
  async stored(): Promise<Set<number>> {
    const client = await this.connect();
    try {
      const { rows } = await client.query(`SELECT seq FROM ${this.table}`);
      return new Set(rows.map((row) => Number(row.seq)));
    } finally {
      this.drop(client);
    }
  }

  /** Drops the probe table, and any a killed drill left behind. */
  async cleanUp(): Promise<string[]> {
    const client = await this.connect();
    try {
      const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'keycloak\\_aurora\\_dr\\_drill\\_%'");
      const tables = rows.map((row) => String(row.tablename)).filter((name) => identifier.test(name));
      for (const name of tables) await client.query(`DROP TABLE IF EXISTS ${name}`);
      return tables;
    } finally {
      this.drop(client);
    }
  }
}
