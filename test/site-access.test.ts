import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { EnvironmentInput, environments, parseEnvironment } from '../environments';
import { SitePeering, SitePeeringProps } from '../modules/site-peering';
import { siteStackName } from '../stacks';
import { StackJson, referencedName, resourcesOf, synthesize, synthesizeApp } from './synth';

const byName = (name: string) => environments.find((env) => env.name === name)!;

/** The database stack and every site stack of an environment, synthesised as one app. */
function synthEnvironment(input: EnvironmentInput) {
  const env = parseEnvironment(input);
  const stacks = synthesizeApp([input]);
  return {
    env,
    database: stacks[`${env.name}-database`],
    sites: Object.fromEntries(env.sites.map((site) => [site.name, stacks[siteStackName(env.name, site.name)]])),
  };
}

const inRegion = (json: StackJson, type: string, region: string) =>
  resourcesOf(json, type).filter(({ config }) => config.provider === `aws.${region}`);

describe('SiteAccessStack', () => {
  describe('GIVEN prod: one site per Region on a two-Region global database (asynchronous)', () => {
    const { env, database, sites } = synthEnvironment(byName('prod'));

    test.each(['site-a', 'site-b'])('THEN %s peers with the Aurora VPC of every Region, requesting from its own Region', (siteName) => {
      const site = env.sites.find((candidate) => candidate.name === siteName)!;
      const json = sites[siteName];
      const connections = resourcesOf(json, 'aws_vpc_peering_connection').map(({ config }) => config);
      expect(connections.map((connection) => connection.peer_region).sort()).toEqual(['eu-central-1', 'eu-west-1']);
      for (const connection of connections) {
        expect(connection).toMatchObject({ provider: `aws.${site.region}`, vpc_id: site.vpcId, auto_accept: false });
        expect(connection.peer_vpc_id).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-prod-database\.outputs\.cross-stack-output-aws_vpc/);
      }
      const accepters = resourcesOf(json, 'aws_vpc_peering_connection_accepter').map(({ config }) => [config.provider, config.auto_accept]);
      expect(accepters.sort()).toEqual([['aws.eu-central-1', true], ['aws.eu-west-1', true]]);
    });

    test('THEN every named route table of the site routes to every Aurora VPC over its peering', () => {
      const site = env.sites[0];
      const json = sites[site.name];
      const siteRoutes = inRegion(json, 'aws_route', site.region)
        .filter(({ config }) => site.routeTableIds.includes(config.route_table_id))
        .map(({ config }) => `${config.route_table_id} -> ${config.destination_cidr_block}`);
      expect(siteRoutes.sort()).toEqual(
        site.routeTableIds.flatMap((table) => [`${table} -> 10.100.0.0/20`, `${table} -> 10.100.16.0/20`]).sort(),
      );
      for (const { config } of resourcesOf(json, 'aws_route')) {
        expect(config.vpc_peering_connection_id).toMatch(/^\$\{aws_vpc_peering_connection\.[^.]+\.id\}$/);
        expect(config.depends_on).toEqual([expect.stringMatching(/^aws_vpc_peering_connection_accepter\./)]);
      }
    });

    test('THEN each Aurora route table routes back to the site, and admits PostgreSQL from the site CIDR only', () => {
      for (const siteName of ['site-a', 'site-b']) {
        const site = env.sites.find((candidate) => candidate.name === siteName)!;
        const json = sites[siteName];
        for (const region of env.regions) {
          const auroraRoutes = inRegion(json, 'aws_route', region).filter(({ config }) => config.destination_cidr_block === site.cidr);
          expect(auroraRoutes).toHaveLength(1);
          expect(auroraRoutes[0].config.route_table_id).toMatch(/cross-stack-output-aws_route_tablenetwork-/);
          const ingress = inRegion(json, 'aws_vpc_security_group_ingress_rule', region).map(({ config }) => config);
          expect(ingress).toEqual([
            expect.objectContaining({ ip_protocol: 'tcp', from_port: 5432, to_port: 5432, cidr_ipv4: site.cidr, security_group_id: expect.stringMatching(/cross-stack-output-aws_security_groupnetwork-/) }),
          ]);
        }
      }
    });

    test('THEN names resolve across each peering on both sides, each side set from its own Region', () => {
      const json = sites['site-b'];
      const options = resourcesOf(json, 'aws_vpc_peering_connection_options').map(({ config }) => config);
      expect(options).toHaveLength(4);
      expect(options.filter((option) => option.requester).map((option) => option.provider)).toEqual(['aws.eu-central-1', 'aws.eu-central-1']);
      expect(options.filter((option) => option.accepter).map((option) => option.provider).sort()).toEqual(['aws.eu-central-1', 'aws.eu-west-1']);
      for (const option of options) {
        expect(option.requester ?? option.accepter).toEqual({ allow_remote_vpc_dns_resolution: true });
        expect(option.vpc_peering_connection_id).toMatch(/^\$\{aws_vpc_peering_connection_accepter\./);
      }
    });

    test('THEN the site VPC joins the private writer zone', () => {
      const [association] = resourcesOf(sites['site-a'], 'aws_route53_zone_association').map(({ config }) => config);
      expect(association).toMatchObject({ vpc_id: env.sites[0].vpcId, vpc_region: 'eu-west-1', provider: 'aws.eu-west-1' });
      expect(association.zone_id).toMatch(/cross-stack-output-aws_route53_zone/);
    });

    test("THEN each site's JDBC URL tries the writer name, then its own Region's cluster, then the other", () => {
      const endpointOrder = (json: StackJson) =>
        [...(json.output!.keycloak_env.value.KC_DB_URL as string).matchAll(/cross-stack-output-aws_rds_clusteraurora_([a-z0-9-]+)_cluster/g)].map((match) => match[1]);
      expect(sites['site-a'].output!.keycloak_env.value.KC_DB_URL).toMatch(/^jdbc:postgresql:\/\/keycloak-prod\.aurora-global\.keycloak\.example\.com:5432,\$\{nonsensitive\(/);
      expect(endpointOrder(sites['site-a'])).toEqual(['eu-west-1', 'eu-central-1']);
      expect(endpointOrder(sites['site-b'])).toEqual(['eu-central-1', 'eu-west-1']);
    });

    test('THEN the outputs name Keycloak settings and where the password is, never the password', () => {
      const outputs = sites['site-b'].output!;
      expect(outputs.keycloak_env.value).toMatchObject({ KC_DB: 'postgres', KC_DB_USERNAME: 'keycloak', JAVA_OPTS_APPEND: '-Dsun.net.inetaddr.ttl=1' });
      expect(outputs.keycloak_env.value).not.toHaveProperty('KC_DB_PASSWORD');
      expect(outputs.keycloak_db_credentials.value).toMatchObject({ secrets_manager_region: 'eu-central-1', kubernetes_secret: 'keycloak-db', password_key: 'password' });
      expect(outputs.keycloak_env_aws_wrapper.value).toMatchObject({ KC_DB_DRIVER: 'software.amazon.jdbc.Driver', KC_DB_URL: expect.stringMatching(/^jdbc:aws-wrapper:postgresql:\/\/\$\{nonsensitive\(.*global_cluster.*wrapperDialect=global-aurora-pg/) });
      expect(outputs.keycloak_cr_spec_db.value).toMatch(/^\$\{yamlencode\(\{"db" = \{"vendor" = "postgres", "url" = "jdbc:postgresql:\/\/keycloak-prod/);
      expect(JSON.stringify(outputs)).not.toMatch(/var\.master_password|password"\s*:\s*"[^$]/);
    });

    test('THEN the credentials secret is replicated to every other Region and written write-only', () => {
      const [secret] = resourcesOf(database, 'aws_secretsmanager_secret').map(({ config }) => config);
      expect(secret).toMatchObject({ name: 'keycloak-prod/database-credentials', provider: 'aws.eu-west-1', replica: [{ region: 'eu-central-1' }] });
      const [version] = resourcesOf(database, 'aws_secretsmanager_secret_version').map(({ config }) => config);
      expect(version.secret_string_wo).toBe('${jsonencode({"username" = "keycloak", "password" = var.master_password})}');
      expect(version).not.toHaveProperty('secret_string');
    });

    test('THEN each site stack keeps its own state key and depends on the database stack', () => {
      expect(sites['site-a'].terraform.backend.s3).toMatchObject({ key: 'keycloak-aurora-dr/prod-site-a-access/terraform.tfstate', use_lockfile: true });
      expect(sites['site-b'].terraform.backend.s3.key).toBe('keycloak-aurora-dr/prod-site-b-access/terraform.tfstate');
      expect(sites['site-a'].data!.terraform_remote_state['cross-stack-reference-input-prod-database'].config.key).toBe('keycloak-aurora-dr/prod-database/terraform.tfstate');
      expect(siteStackName('prod', 'site-a')).toBe('prod-site-a-access');
    });
  });

  describe('GIVEN staging: both sites in one Region, in two zones (synchronous), with a disaster-recovery Region', () => {
    const { sites } = synthEnvironment(byName('staging'));

    test('THEN both sites still peer with both Regions, so they reach the writer after a regional failover', () => {
      for (const json of Object.values(sites)) {
        expect(resourcesOf(json, 'aws_vpc_peering_connection').map(({ config }) => [config.provider, config.peer_region]).sort()).toEqual([
          ['aws.eu-west-1', 'eu-central-1'],
          ['aws.eu-west-1', 'eu-west-1'],
        ]);
      }
    });

    test('THEN each runs in its own HCP Terraform workspace and reads the database workspace', () => {
      expect(sites['site-a'].terraform.cloud).toEqual({ organization: 'example-identity', hostname: 'app.terraform.io', workspaces: { name: 'keycloak-staging-site-a-access', project: 'keycloak' } });
      expect(sites['site-a'].data!.terraform_remote_state['cross-stack-reference-input-staging-database']).toMatchObject({ backend: 'remote', config: { organization: 'example-identity', workspaces: { name: 'keycloak-staging-database' } } });
    });
  });
});

describe('SitePeering', () => {
  const synthPeering = (change: { site?: Partial<SitePeeringProps['site']>; aurora?: Partial<SitePeeringProps['aurora']> }) => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const provider = new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    new SitePeering(stack, 'peering', {
      site: { name: 'site-a', provider, region: 'eu-west-1', vpcId: 'vpc-1', cidr: '10.1.0.0/16', routeTableIds: ['rtb-1'], ...change.site },
      aurora: { provider, region: 'eu-west-1', vpcId: 'vpc-2', cidr: '10.100.0.0/20', routeTableId: 'rtb-2', securityGroupId: 'sg-2', ...change.aurora },
    });
    return synthesize(stack);
  };

  test('a same-Region peering is requested, accepted, routed and opened like a cross-Region one', () => {
    const json = synthPeering({});
    const [connection] = resourcesOf(json, 'aws_vpc_peering_connection');
    expect(connection.config).toMatchObject({ vpc_id: 'vpc-1', peer_vpc_id: 'vpc-2', peer_region: 'eu-west-1' });
    expect(referencedName(resourcesOf(json, 'aws_vpc_peering_connection_accepter')[0].config.vpc_peering_connection_id, 'aws_vpc_peering_connection')).toBe(connection.name);
    expect(resourcesOf(json, 'aws_route').map(({ config }) => [config.route_table_id, config.destination_cidr_block]).sort()).toEqual([
      ['rtb-1', '10.100.0.0/20'],
      ['rtb-2', '10.1.0.0/16'],
    ]);
  });

  test.each<[string, Parameters<typeof synthPeering>[0], RegExp]>([
    ['overlapping VPCs', { site: { cidr: '10.100.8.0/24' } }, /site site-a \(10.100.8.0\/24\) overlaps the Aurora VPC in eu-west-1 \(10.100.0.0\/20\)/],
    ['no route table', { site: { routeTableIds: [] } }, /site site-a needs at least one route table/],
    ['a malformed CIDR', { site: { cidr: '10.1.0.0' } }, /10.1.0.0 is not an IPv4 CIDR block/],
  ])('%s are refused', (_rule, change, expected) => {
    expect(() => synthPeering(change)).toThrow(expected);
  });
});
