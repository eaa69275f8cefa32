import { environments } from '../environments';
import { greenStackName } from '../stacks';
import { resourcesOf, synthesizeApp } from './synth';

describe('GreenStack and AuroraClone', () => {
  const stacks = synthesizeApp(environments.filter((env) => env.name === 'staging'));
  const green = stacks[greenStackName('staging')];
  const database = stacks['staging-database'];
  const [cluster] = resourcesOf(green, 'aws_rds_cluster').map(({ config }) => config);

  test('THEN green is a copy-on-write clone of the eu-west-1 cluster at its latest restorable time, in that Region', () => {
    expect(cluster).toMatchObject({
      cluster_identifier: 'keycloak-staging-eu-west-1-green',
      engine: 'aurora-postgresql',
      provider: 'aws.eu-west-1',
      restore_to_point_in_time: { source_cluster_identifier: 'keycloak-staging-eu-west-1', restore_type: 'copy-on-write', use_latest_restorable_time: true },
      storage_encrypted: true,
      deletion_protection: true,
    });
    expect(cluster.lifecycle.ignore_changes).toEqual(['restore_to_point_in_time', 'engine_version']);
    expect(cluster).not.toHaveProperty('global_cluster_identifier');
    expect(cluster).not.toHaveProperty('master_password_wo');
  });

  test("THEN it uses blue's subnet group, security group, key and both parameter groups, read from the database stack", () => {
    const fromDatabase = (type: string, name: RegExp) => expect.stringMatching(new RegExp(`cross-stack-reference-input-staging-database\\.outputs\\.cross-stack-output-${type}${name.source}`));
    expect(cluster).toMatchObject({
      db_subnet_group_name: fromDatabase('aws_db_subnet_group', /network-eu-west-1_db-subnets_.+name/),
      vpc_security_group_ids: [fromDatabase('aws_security_group', /network-eu-west-1_aurora_.+id/)],
      kms_key_id: fromDatabase('aws_kms_key', /aurora_eu-west-1_key_.+arn/),
      db_cluster_parameter_group_name: fromDatabase('aws_rds_cluster_parameter_group', /aurora_eu-west-1_cluster-parameters_.+name/),
    });
    const [instance] = resourcesOf(green, 'aws_rds_cluster_instance').map(({ config }) => config);
    expect(instance).toMatchObject({
      identifier: 'keycloak-staging-eu-west-1-green-1',
      db_parameter_group_name: fromDatabase('aws_db_parameter_group', /aurora_eu-west-1_instance-parameters_.+name/),
      performance_insights_kms_key_id: fromDatabase('aws_kms_key', /aurora_eu-west-1_key_.+arn/),
    });
  });

  test("THEN blue's cluster parameter groups turn logical replication on, sized for one subscriber", () => {
    for (const { config } of resourcesOf(database, 'aws_rds_cluster_parameter_group')) {
      expect(config.parameter).toEqual(expect.arrayContaining([
        { name: 'rds.logical_replication', value: '1', apply_method: 'pending-reboot' },
        { name: 'max_replication_slots', value: '3', apply_method: 'pending-reboot' },
        { name: 'max_wal_senders', value: '7', apply_method: 'pending-reboot' },
        { name: 'max_logical_replication_workers', value: '4', apply_method: 'pending-reboot' },
      ]));
    }
  });

  test('THEN green has its own state and outputs its writer endpoint for BLUEGREEN_GREEN_URL', () => {
    expect(green.terraform.cloud.workspaces.name).toBe('keycloak-staging-green');
    expect(green.output!.green_writer_endpoint.value).toMatch(/^\$\{aws_rds_cluster\.green_cluster_[^.]+\.endpoint\}$/);
  });

  test('an environment without blue/green has no green stack and no logical replication', () => {
    const dev = synthesizeApp(environments.filter((env) => env.name === 'dev'));
    expect(Object.keys(dev)).not.toContain(greenStackName('dev'));
    for (const { config } of resourcesOf(dev['dev-database'], 'aws_rds_cluster_parameter_group')) {
      expect(config.parameter.map((parameter: { name: string }) => parameter.name)).toEqual(['rds.force_ssl']);
    }
  });
});
