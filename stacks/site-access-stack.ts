import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53ZoneAssociation } from '@cdktf/provider-aws/lib/route53-zone-association';
import { Fn, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { EnvironmentConfig, regionPlans } from '../environments/schema';
import {
  AWS_WRAPPER_DRIVER,
  JAVA_DNS_CACHE_OPTIONS,
  NODE_TCP_KEEPALIVE_SYSCTLS,
  awsWrapperJdbcUrl,
  instanceHostPattern,
  keycloakCrDatabaseSpec,
  keycloakJdbcUrl,
} from '../modules/keycloak-connection';
import { siteStackName } from '../modules/core';
import { SitePeering } from '../modules/site-peering';
import { addStateBackend } from '../modules/state-backend';
import { DatabaseEndpoints, DatabaseStack, environmentTags } from './database-stack';

export type SiteConfig = EnvironmentConfig['sites'][number];


/** The Kubernetes Secret Keycloak reads its database credentials from, kept in sync with Secrets Manager. */
export const KUBERNETES_CREDENTIALS_SECRET = { kubernetesSecretName: 'keycloak-db', usernameKey: 'username', passwordKey: 'password' };

/**
 * What one Keycloak site needs to use the database: peering with every regional Aurora VPC, the
 * private writer zone in its VPC, and the connection settings as outputs. It has its own state, and
 * reads the database stack's values through cross-stack references, so sites come and go without
 * touching the database stack.
 */
export class SiteAccessStack extends TerraformStack {
  public readonly peerings: Record<string, SitePeering> = {};
  /** The PgJDBC URL the site's Keycloak uses. */
  public readonly jdbcUrl: string;

  /**
   * `live`: the endpoints of the database that takes the writes, blue's by default; once green is
   * live, the green stack's (`GreenStack.endpoints`), and this stack then depends on it.
   */
  constructor(scope: Construct, env: EnvironmentConfig, site: SiteConfig, database: DatabaseStack, live?: { readonly endpoints: DatabaseEndpoints; readonly stack: TerraformStack }) {
    super(scope, siteStackName(env.name, site.name));
    addStateBackend(this, env.stateBackend);
    this.addDependency(database);
    if (live) this.addDependency(live.stack);
    const endpointsOfLive = live?.endpoints ?? database.blueEndpoints;
    if (!endpointsOfLive) throw new Error(`${env.name}: blue's clusters are retired; give the site stack ${site.name} the live database's endpoints (GreenStack.endpoints)`);

    const tags = { ...environmentTags(env), KeycloakSite: site.name };
    const providers = Object.fromEntries(
      env.regions.map((region) => [region, new AwsProvider(this, `aws-${region}`, { region, alias: region, defaultTags: [{ tags }] })]),
    );
    const siteProvider = providers[site.region];

    for (const plan of regionPlans(env)) {
      const network = database.networks[plan.region];
      this.peerings[plan.region] = new SitePeering(this, `peering-${plan.region}`, {
        site: { ...site, provider: siteProvider },
        aurora: {
          provider: providers[plan.region],
          region: plan.region,
          vpcId: network.vpc.id,
          cidr: plan.vpcCidr,
          routeTableId: network.routeTable.id,
          securityGroupId: network.securityGroup.id,
        },
      });
    }

    if (env.writerDns.zone.type === 'private') {
      new Route53ZoneAssociation(this, 'writer-zone', {
        provider: siteProvider,
        zoneId: database.writerDns.zoneId,
        vpcId: site.vpcId,
        vpcRegion: site.region,
      });
    }

    // Endpoints are not secret, but values from another stack arrive marked sensitive, which would hide them.
    const plain = (value: string) => Fn.nonsensitive(value);
    // The site's own Region first: after the writer name, the nearest cluster is the likeliest writer.
    const endpoints = [...endpointsOfLive.regionalWriterEndpoints]
      .sort((a, b) => Number(b.region === site.region) - Number(a.region === site.region))
      .map(({ endpoint }) => plain(endpoint));
    this.jdbcUrl = keycloakJdbcUrl({
      writerName: database.writerDns.recordName,
      regionalWriterEndpoints: endpoints,
      database: env.databaseName,
    });
    const awsWrapperUrl = awsWrapperJdbcUrl({
      globalWriterEndpoint: plain(endpointsOfLive.globalWriterEndpoint),
      instanceHostPatterns: endpoints.map(instanceHostPattern),
      database: env.databaseName,
    });

    new TerraformOutput(this, 'keycloak_env', {
      description: 'Environment of the Keycloak pods: KC_DB_PASSWORD comes from the secret in keycloak_db_credentials.',
      value: {
        KC_DB: 'postgres',
        KC_DB_URL: this.jdbcUrl,
        KC_DB_USERNAME: env.masterUsername,
        JAVA_OPTS_APPEND: JAVA_DNS_CACHE_OPTIONS,
      },
    });
    new TerraformOutput(this, 'keycloak_env_aws_wrapper', {
      description: 'The same with the AWS Advanced JDBC Wrapper (its jar in providers/; KC_DB_DRIVER is a build option).',
      value: {
        KC_DB: 'postgres',
        KC_DB_URL: awsWrapperUrl,
        KC_DB_DRIVER: AWS_WRAPPER_DRIVER,
        KC_DB_USERNAME: env.masterUsername,
        JAVA_OPTS_APPEND: JAVA_DNS_CACHE_OPTIONS,
      },
    });
    new TerraformOutput(this, 'keycloak_db_credentials', {
      description: 'Where the credentials are: a Secrets Manager secret replicated to this Region; sync it into the Kubernetes Secret.',
      value: {
        secrets_manager_secret: plain(database.credentialsSecret.name),
        secrets_manager_region: site.region,
        kubernetes_secret: KUBERNETES_CREDENTIALS_SECRET.kubernetesSecretName,
        username_key: KUBERNETES_CREDENTIALS_SECRET.usernameKey,
        password_key: KUBERNETES_CREDENTIALS_SECRET.passwordKey,
      },
    });
    new TerraformOutput(this, 'keycloak_cr_spec_db', {
      description: 'spec.db of the Keycloak Operator resource (k8s.keycloak.org/v2alpha1), as YAML.',
      value: Fn.yamlencode(keycloakCrDatabaseSpec(this.jdbcUrl, KUBERNETES_CREDENTIALS_SECRET)),
    });
    new TerraformOutput(this, 'node_tcp_keepalive_sysctls', {
      description: 'Kernel settings for the Kubernetes nodes (MachineConfig on ROSA, launch template on EKS).',
      value: NODE_TCP_KEEPALIVE_SYSCTLS,
    });
    new TerraformOutput(this, 'peering_connection_ids', {
      value: Object.fromEntries(Object.entries(this.peerings).map(([region, peering]) => [region, peering.connection.id])),
    });
  }
}

export { siteStackName };
