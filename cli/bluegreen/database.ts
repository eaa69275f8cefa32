/** Small helpers over `pg` for the blue/green steps: one place that opens and closes connections. */
import { Client, ClientConfig } from 'pg';

export type Sql = Pick<Client, 'query' | 'escapeIdentifier' | 'escapeLiteral'>;

/** Runs `work` with a connection to `url`, closing it afterwards whatever happens. */
export async function withDatabase<T>(url: string, work: (sql: Sql) => Promise<T>, extra: Partial<ClientConfig> = {}): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'keycloak-aurora-dr bluegreen', ...extra });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One value from a one-row, one-column query. */
export async function scalar<T>(sql: Sql, text: string, values: unknown[] = []): Promise<T> {
  const { rows } = await sql.query(text, values);
  return Object.values(rows[0] ?? {})[0] as T;
}

/** The database name of a connection URL. */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}
