/**
 * Connections for the blue/green steps: one place that opens and closes them, names the side a
 * failure came from, and turns the driver's errors into one line with the CLI's exit code.
 */
import { Client, ClientConfig, QueryResult } from 'pg';
import { CliError, ExitCode } from '../errors';

/** The part of a connection the steps use. */
export interface Sql {
  query(text: string, values?: readonly unknown[]): Promise<QueryResult>;
  escapeIdentifier(name: string): string;
  escapeLiteral(value: string): string;
  /** The server process of this connection, so that ending "every other session" spares it. */
  readonly pid: number;
}

/** Which database a connection reaches: blue's, blue's maintenance database, or green's. */
export interface Target {
  /** How messages name it: `blue`, `blue (maintenance database postgres)`, `green`. */
  readonly side: string;
  readonly url: string;
}

interface DriverError extends Error {
  code?: string;
  severity?: string;
}

/** `host:port/database`, never the password. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}/${databaseOf(url)}`;
}

/** An error of `side` as one line: the server's message and SQLSTATE, or why the connection failed. */
export function databaseError(target: Target, error: DriverError, connecting: boolean): CliError {
  if (error instanceof CliError) return error;
  const reason = `${error.message.replace(/\s+/g, ' ').trim()}${error.code && error.severity ? ` (SQLSTATE ${error.code})` : ''}`;
  const wrapped = new CliError(connecting ? `cannot connect to ${target.side} at ${describeUrl(target.url)}: ${reason}` : `${target.side} failed: ${reason}`, ExitCode.stopped);
  (wrapped as CliError & { sqlState?: string }).sqlState = error.code;
  return wrapped;
}

/** The SQLSTATE behind a wrapped database error, if any. */
export function sqlStateOf(error: unknown): string | undefined {
  return (error as { sqlState?: string }).sqlState;
}

/** Opens a connection to `target`; the caller ends it. */
export async function connect(target: Target, extra: Partial<ClientConfig> = {}): Promise<Sql & { end(): Promise<void> }> {
  const client = new Client({ connectionString: target.url, application_name: 'keycloak-aurora-dr bluegreen', ...extra });
  // A server that goes away between queries emits 'error' on the client; the next query reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw databaseError(target, error as DriverError, true);
  }
  const pid = (client as unknown as { processID: number }).processID;
  return {
    pid,
    escapeIdentifier: (name) => client.escapeIdentifier(name),
    escapeLiteral: (value) => client.escapeLiteral(value),
    query: async (text, values) => {
      try {
        return await client.query(text, values as unknown[] | undefined);
      } catch (error) {
        throw databaseError(target, error as DriverError, false);
      }
    },
    end: () => client.end().catch(() => undefined),
  };
}

/** Runs `work` with a connection to `target`, closing it afterwards whatever happens. */
export async function withDatabase<T>(target: Target, work: (sql: Sql) => Promise<T>, extra: Partial<ClientConfig> = {}): Promise<T> {
  const sql = await connect(target, extra);
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/** One value from a one-row, one-column query. */
export async function scalar<T>(sql: Sql, text: string, values: readonly unknown[] = []): Promise<T> {
  const { rows } = await sql.query(text, values);
  return Object.values(rows[0] ?? {})[0] as T;
}

/** The database name of a connection URL. */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** The same server and credentials as `url`, another database. */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
