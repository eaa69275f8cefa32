import { spawnSync } from 'node:child_process';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import {
  AWS_WRAPPER_DRIVER,
  FAST_FAILOVER_PROPERTIES,
  JAVA_DNS_CACHE_OPTIONS,
  NODE_TCP_KEEPALIVE_SYSCTLS,
  awsWrapperJdbcUrl,
  instanceHostPattern,
  keycloakCrDatabaseSpec,
  keycloakJdbcUrl,
} from '../modules/keycloak-connection';
import { requireTerraform } from './terraform-harness';

const WEST = 'keycloak-prod-eu-west-1.cluster-c9akciq32x1p.eu-west-1.rds.amazonaws.com';
const CENTRAL = 'keycloak-prod-eu-central-1.cluster-d4mzt81qw7ve.eu-central-1.rds.amazonaws.com';
const WRITER = 'keycloak-prod.aurora-global.example.internal';

/** Terraform evaluates `expression` as `terraform console` does. */
function evaluate(expression: string): string {
  requireTerraform();
  const result = spawnSync('terraform', ['console'], { input: expression, encoding: 'utf8', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' } });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim());
}

describe('keycloak connection settings', () => {
  describe('keycloakJdbcUrl', () => {
    test('THEN the writer name comes first, then every regional writer endpoint, each once, with the failover properties', () => {
      const url = keycloakJdbcUrl({ writerName: WRITER, regionalWriterEndpoints: [CENTRAL, WEST, CENTRAL], database: 'keycloak' });
      expect(url).toBe(
        `jdbc:postgresql://${WRITER}:5432,${CENTRAL}:5432,${WEST}:5432/keycloak?` +
          'targetServerType=primary&sslmode=require&connectTimeout=4&socketTimeout=5&sslResponseTimeout=1000' +
          '&loginTimeout=10&cancelSignalTimeout=2&tcpKeepAlive=true&hostRecheckSeconds=30',
      );
    });

    test('THEN a single-Region database still lists its regional endpoint after the writer name', () => {
      expect(keycloakJdbcUrl({ writerName: WRITER, regionalWriterEndpoints: [WEST], database: 'kc', port: 5433 })).toMatch(
        new RegExp(`^jdbc:postgresql://${WRITER}:5433,${WEST}:5433/kc\\?targetServerType=primary&`),
      );
    });

    test('THEN the properties bound a hung writer and keep TLS mandatory', () => {
      expect(FAST_FAILOVER_PROPERTIES).toMatchObject({
        targetServerType: 'primary',
        sslmode: 'require',
        socketTimeout: '5',
        sslResponseTimeout: '1000',
        tcpKeepAlive: 'true',
      });
      // One getConnection must outlast an attempt through a hung host, or it leaves threads and sockets behind.
      expect(Number(FAST_FAILOVER_PROPERTIES.loginTimeout)).toBeGreaterThan(
        Number(FAST_FAILOVER_PROPERTIES.sslResponseTimeout) / 1000 + Number(FAST_FAILOVER_PROPERTIES.socketTimeout),
      );
      // The shared connect budget must outlast two hung hosts (the writer name and its regional endpoint).
      expect(Number(FAST_FAILOVER_PROPERTIES.connectTimeout)).toBeGreaterThan((2 * Number(FAST_FAILOVER_PROPERTIES.sslResponseTimeout)) / 1000);
    });
  });

  describe('the AWS Advanced JDBC Wrapper variant', () => {
    test('THEN it connects to the global writer endpoint with the global-database dialect and plugins', () => {
      const url = awsWrapperJdbcUrl({
        globalWriterEndpoint: 'keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com',
        instanceHostPatterns: ['?.c9akciq32x1p.eu-west-1.rds.amazonaws.com', '?.d4mzt81qw7ve.eu-central-1.rds.amazonaws.com'],
        database: 'keycloak',
      });
      expect(url).toBe(
        'jdbc:aws-wrapper:postgresql://keycloak-prod.global-7xq2ab9c.global.rds.amazonaws.com:5432/keycloak?' +
          'wrapperDialect=global-aurora-pg&wrapperPlugins=initialConnection,failover2,efm2' +
          '&globalClusterInstanceHostPatterns=?.c9akciq32x1p.eu-west-1.rds.amazonaws.com,?.d4mzt81qw7ve.eu-central-1.rds.amazonaws.com' +
          '&sslmode=require',
      );
      expect(AWS_WRAPPER_DRIVER).toBe('software.amazon.jdbc.Driver');
    });

    test('THEN the instance host pattern Terraform computes from a cluster endpoint is ?.<suffix>.<region>.rds.amazonaws.com', () => {
      const stack = new TerraformStack(Testing.app(), 'pattern');
      new TerraformOutput(stack, 'pattern', { value: instanceHostPattern(CENTRAL) });
      const synthesized: string = JSON.parse(Testing.synth(stack)).output.pattern.value;
      expect(synthesized).toMatch(/^\$\{replace\(/);
      expect(evaluate(synthesized.slice(2, -1))).toBe('?.d4mzt81qw7ve.eu-central-1.rds.amazonaws.com');
    });
  });

  test('the JVM re-resolves DNS within the record TTL, and the nodes detect a dead peer in about 5 s', () => {
    expect(JAVA_DNS_CACHE_OPTIONS).toBe('-Dsun.net.inetaddr.ttl=1');
    const { 'net.ipv4.tcp_keepalive_time': time, 'net.ipv4.tcp_keepalive_intvl': interval, 'net.ipv4.tcp_keepalive_probes': probes } = NODE_TCP_KEEPALIVE_SYSCTLS;
    expect(Number(time) + Number(interval) * Number(probes)).toBeLessThanOrEqual(6);
  });

  test('the operator spec.db names the vendor, the URL and the Kubernetes Secret keys', () => {
    expect(keycloakCrDatabaseSpec('jdbc:postgresql://h/keycloak', { kubernetesSecretName: 'keycloak-db', usernameKey: 'username', passwordKey: 'password' })).toEqual({
      db: {
        vendor: 'postgres',
        url: 'jdbc:postgresql://h/keycloak',
        usernameSecret: { name: 'keycloak-db', key: 'username' },
        passwordSecret: { name: 'keycloak-db', key: 'password' },
      },
    });
  });
});
