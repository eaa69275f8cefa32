import { Fn } from 'cdktf';

/**
 * How Keycloak connects to the global database: pure functions from endpoints to settings.
 * The parameter values come from failover drills with PgJDBC 42.7 (see the README).
 */

/** PostgreSQL's port, which Aurora PostgreSQL listens on. */
export const POSTGRES_PORT = 5432;

/**
 * PgJDBC properties that bring a client back to a new writer quickly: within about 11 s of a hung
 * writer and well under 1 s of a killed one in the drills.
 * - `socketTimeout=5`: the only bound on a call stuck at a hung server. It also ends any statement
 *   longer than 5 s; run long jobs (large migrations) with a larger value.
 * - `sslResponseTimeout=1000`: a live server answers the SSLRequest in a millisecond; the default
 *   5 s is pure waiting at a hung host. `sslmode=require`: Aurora here refuses plaintext
 *   (`rds.force_ssl`), and require skips the plaintext retry at a hung host.
 * - `connectTimeout=4`: PgJDBC 42.7.11+ spends one connect budget across all hosts. After a
 *   failover the first two hosts (the writer name and the old writer's endpoint) can both be the hung
 *   writer, about 1 s each with `sslmode=require`; 4 s leaves the next host room to connect, and
 *   bounds what a silent host costs.
 * - `loginTimeout=10`: longer than one attempt through a hung host, so a single getConnection
 *   reaches the next host itself.
 * - `hostRecheckSeconds=30`: keeps a hung old writer out of the way of new connections.
 */
export const FAST_FAILOVER_PROPERTIES: Readonly<Record<string, string>> = {
  targetServerType: 'primary',
  sslmode: 'require',
  connectTimeout: '4',
  socketTimeout: '5',
  sslResponseTimeout: '1000',
  loginTimeout: '10',
  cancelSignalTimeout: '2',
  tcpKeepAlive: 'true',
  hostRecheckSeconds: '30',
};

/**
 * JVM DNS cache: re-resolve the writer name after 1 s (the record's TTL is 5 s; the JDK's default is
 * 30 s). This system property applies because the JDK's java.security leaves
 * `networkaddress.cache.ttl` unset. The negative cache is not set here: java.security sets
 * `networkaddress.cache.negative.ttl=10`, which overrides `-Dsun.net.inetaddr.negative.ttl` (checked
 * on OpenJDK 17). Changing it needs a security properties file (`-Djava.security.properties=…`).
 */
export const JAVA_DNS_CACHE_OPTIONS = '-Dsun.net.inetaddr.ttl=1';

/**
 * Kernel TCP keepalive on the Kubernetes nodes: a dead peer is noticed within about 5 s on
 * connections with `tcpKeepAlive=true`. It cannot see a hung peer, whose kernel still answers.
 */
export const NODE_TCP_KEEPALIVE_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.tcp_keepalive_time': '1',
  'net.ipv4.tcp_keepalive_intvl': '1',
  'net.ipv4.tcp_keepalive_probes': '5',
};

export interface DatabaseEndpoints {
  /** The name that always names the writer (`<cluster>.aurora-global.<domain>`): tried first. */
  readonly writerName: string;
  /** Every regional cluster's writer endpoint, in the order to try them after the writer name. */
  readonly regionalWriterEndpoints: readonly string[];
  readonly database: string;
  /** @default 5432 */
  readonly port?: number;
}

/** A PgJDBC URL: the writer name, then every regional writer endpoint, then the failover properties. */
export function keycloakJdbcUrl(
  endpoints: DatabaseEndpoints,
  properties: Readonly<Record<string, string>> = FAST_FAILOVER_PROPERTIES,
): string {
  const port = endpoints.port ?? POSTGRES_PORT;
  const hosts = [...new Set([endpoints.writerName, ...endpoints.regionalWriterEndpoints])].map((host) => `${host}:${port}`);
  return `jdbc:postgresql://${hosts.join(',')}/${endpoints.database}?${queryString(properties)}`;
}

export interface AwsWrapperEndpoints {
  /** Aurora's global writer endpoint. */
  readonly globalWriterEndpoint: string;
  /** Each Region's instance host pattern, `?.<cluster id suffix>.<region>.rds.amazonaws.com`. */
  readonly instanceHostPatterns: readonly string[];
  readonly database: string;
  /** @default 5432 */
  readonly port?: number;
}

/** Driver class of the AWS Advanced JDBC Wrapper (its jar goes into Keycloak's `providers/`). */
export const AWS_WRAPPER_DRIVER = 'software.amazon.jdbc.Driver';

/** A URL for the AWS Advanced JDBC Wrapper with its global-database settings. */
export function awsWrapperJdbcUrl(endpoints: AwsWrapperEndpoints): string {
  const port = endpoints.port ?? POSTGRES_PORT;
  return `jdbc:aws-wrapper:postgresql://${endpoints.globalWriterEndpoint}:${port}/${endpoints.database}?${queryString({
    wrapperDialect: 'global-aurora-pg',
    wrapperPlugins: 'initialConnection,failover2,efm2',
    globalClusterInstanceHostPatterns: endpoints.instanceHostPatterns.join(','),
    sslmode: 'require',
  })}`;
}

/**
 * The instance host pattern of a cluster endpoint, as a Terraform expression (endpoints are known
 * only at apply): `c.cluster-abc.eu-west-1.rds.amazonaws.com` → `?.abc.eu-west-1.rds.amazonaws.com`.
 */
export function instanceHostPattern(clusterEndpoint: string): string {
  return Fn.replace(clusterEndpoint, '/^[^.]+[.]cluster-/', '?.');
}

/** Where the database credentials are, for a Kubernetes Secret that External Secrets (or similar) keeps in sync. */
export interface CredentialsSecret {
  /** Name of the Kubernetes Secret Keycloak reads. */
  readonly kubernetesSecretName: string;
  readonly usernameKey: string;
  readonly passwordKey: string;
}

/** The `spec.db` of a Keycloak Operator `Keycloak` resource (k8s.keycloak.org/v2alpha1). */
export function keycloakCrDatabaseSpec(url: string, secret: CredentialsSecret) {
  return {
    db: {
      vendor: 'postgres',
      url,
      usernameSecret: { name: secret.kubernetesSecretName, key: secret.usernameKey },
      passwordSecret: { name: secret.kubernetesSecretName, key: secret.passwordKey },
    },
  };
}

/** Values go in as they are: they are plain words, numbers and comma lists, or Terraform expressions that must stay intact. */
function queryString(properties: Readonly<Record<string, string>>): string {
  return Object.entries(properties)
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
