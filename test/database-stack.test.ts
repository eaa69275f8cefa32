import { Testing } from 'cdktf';
import { EnvironmentInput, environments, parseEnvironment } from '../environments';
import { cloudWorkspaceName, s3StateKey } from '../modules/state-backend';
import { DatabaseStack, bundleFunction, databaseStackName } from '../stacks';
import { environmentInput } from './environment-fixtures';
import { resourcesOf, synthesize } from './synth';

const base = environmentInput('qa');

function synthStack(change: Partial<EnvironmentInput> = {}) {
  const stack = new DatabaseStack(Testing.app(), parseEnvironment({ ...base, ...change }), { writerDnsBundle: bundleFunction('writer-dns') });
  return synthesize(stack);
}

describe('DatabaseStack', () => {
  describe('GIVEN a two-Region environment', () => {
    const json = synthStack({ tags: { CostCenter: 'identity' } });

    test('THEN it is named after the environment', () => {
      expect(databaseStackName('qa')).toBe('qa-database');
    });

    test('THEN there is one aliased provider per Region, tagging every resource with its owner', () => {
      expect(json.provider!.aws.map((provider) => [provider.alias, provider.region])).toEqual([
        ['eu-west-1', 'eu-west-1'],
        ['eu-central-1', 'eu-central-1'],
      ]);
      for (const provider of json.provider!.aws) {
        expect(provider.default_tags).toEqual([
          {
            tags: {
              CostCenter: 'identity',
              Project: 'keycloak-aurora-dr',
              Environment: 'qa',
              GlobalCluster: 'keycloak-qa',
              ManagedBy: 'cdktf',
            },
          },
        ]);
      }
    });

    test('THEN each Region has its network, with the derived CIDRs, holding its member cluster', () => {
      const byProvider = (type: string, field: string) =>
        Object.fromEntries(resourcesOf(json, type).map(({ config }) => [config.provider, config[field]]));
      expect(byProvider('aws_vpc', 'cidr_block')).toEqual({
        'aws.eu-west-1': '10.100.0.0/20',
        'aws.eu-central-1': '10.100.16.0/20',
      });
      expect(byProvider('aws_rds_cluster', 'cluster_identifier')).toEqual({
        'aws.eu-west-1': 'keycloak-qa-eu-west-1',
        'aws.eu-central-1': 'keycloak-qa-eu-central-1',
      });
    });

    test('THEN the master password is an ephemeral, sensitive variable with the RDS rules, written only write-only', () => {
      expect(json.variable!.master_password).toMatchObject({ type: 'string', sensitive: true, ephemeral: true, nullable: false });
      expect(json.variable!.master_password).not.toHaveProperty('default');
      expect(json.variable!.master_password.validation[0].condition).toContain('length(var.master_password) <= 41');
      const primary = resourcesOf(json, 'aws_rds_cluster').find(({ config }) => config.provider === 'aws.eu-west-1')!;
      expect(primary.config.master_password_wo).toBe('${var.master_password}');
      expect(primary.config.master_password_wo_version).toBe('${var.master_password_version}');
    });

    test('THEN outputs describe the members and never carry the password', () => {
      expect(JSON.stringify(json.output)).not.toContain('master_password');
      expect(Object.keys(json.output!).sort()).toEqual(['global_cluster_identifier', 'global_writer_endpoint', 'live_global_cluster_identifier', 'regional_clusters', 'writer_dns_name', 'writer_dns_zone_id']);
      expect(json.output!.regional_clusters.value['eu-central-1']).toMatchObject({
        cluster_identifier: expect.stringMatching(/^\$\{aws_rds_cluster\..+\.cluster_identifier\}$/),
        writer_endpoint: expect.stringMatching(/^\$\{aws_rds_cluster\..+\.endpoint\}$/),
        vpc_cidr: '10.100.16.0/20',
      });
    });

    test('THEN state stays local by default', () => {
      expect(json.terraform.backend).toBeUndefined();
    });
  });

  describe('WHEN state goes to S3', () => {
    test('THEN the key is per stack, objects are encrypted and locking is native', () => {
      const json = synthStack({
        stateBackend: { type: 's3', bucket: 'state-bucket', region: 'eu-west-1', keyPrefix: 'teams/identity', kmsKeyId: 'alias/state' },
      });
      expect(json.terraform.backend).toEqual({
        s3: {
          bucket: 'state-bucket',
          key: 'teams/identity/qa-database/terraform.tfstate',
          region: 'eu-west-1',
          encrypt: true,
          kms_key_id: 'alias/state',
          use_lockfile: true,
        },
      });
      expect(s3StateKey('teams/identity', 'qa-database')).toBe('teams/identity/qa-database/terraform.tfstate');
    });
  });

  describe('WHEN state goes to HCP Terraform', () => {
    test('THEN the stack runs in its own named workspace of the organization and project', () => {
      const json = synthStack({
        stateBackend: { type: 'cloud', organization: 'acme', project: 'identity', workspacePrefix: 'keycloak-' },
      });
      expect(json.terraform.cloud).toEqual({
        organization: 'acme',
        hostname: 'app.terraform.io',
        workspaces: { name: 'keycloak-qa-database', project: 'identity' },
      });
      expect(cloudWorkspaceName('', 'qa-database')).toBe('qa-database');
    });
  });

  test('the example environments pass the password only to write-only attributes', () => {
    for (const input of environments) {
      const json = synthesize(new DatabaseStack(Testing.app(), parseEnvironment(input), { writerDnsBundle: bundleFunction('writer-dns') }));
      const uses: string[] = [];
      for (const [type, resources] of Object.entries(json.resource)) {
        for (const [name, config] of Object.entries(resources)) {
          expect(config).not.toHaveProperty('master_password');
          for (const [field, value] of Object.entries(config)) {
            if (JSON.stringify(value).includes('var.master_password}')) uses.push(`${type}.${name}.${field}`);
          }
        }
      }
      expect(uses.sort()).toEqual([
        expect.stringMatching(/^aws_rds_cluster\..+\.master_password_wo$/),
        expect.stringMatching(/^aws_secretsmanager_secret_version\..+\.secret_string_wo$/),
      ]);
    }
  });
});
