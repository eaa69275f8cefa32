import { environments } from '../environments';
import { greenStackName } from '../stacks';
import { resourcesOf, synthesizeApp } from './synth';

describe('GreenStack and AuroraClone', () => {
  const stacks = synthesizeApp(environments.filter((env) => env.name === 'staging'));
  const green = stacks[greenStackName('staging')];
  const database = stacks['staging-database'];
  const [cluster] = resourcesOf(green, 'aws_rds_cluster').map(({ config }) => config).filter((config) => config.restore_to_point_in_time);

  test('THEN green is a copy-on-write clone of the eu-west-1 cluster at its latest restorable time, in that Region', () => {
    expect(cluster).toMatchObject({
      cluster_identifier: 'keycloak-staging-eu-west-1-green',
      engine: 'aurora-postgresql',
      provider: 'aws.eu-west-1',
      restore_to_point_in_time: { source_cluster_identifier: 'keycloak-staging-eu-west-1', restore_type: 'copy-on-write', use_latest_restorable_time: true },
      storage_encrypted: true,
      deletion_protection: true,
    });
    expect(cluster.lifecycle.ignore_changes).toEqual(['restore_to_point_in_time', 'engine_version', 'db_cluster_parameter_group_name', 'global_cluster_identifier']);
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
    const instance = resourcesOf(green, 'aws_rds_cluster_instance').map(({ config }) => config).find((config) => config.identifier === 'keycloak-staging-eu-west-1-green-1');
    expect(instance).toMatchObject({
      identifier: 'keycloak-staging-eu-west-1-green-1',
      db_parameter_group_name: fromDatabase('aws_db_parameter_group', /aurora_eu-west-1_instance-parameters_.+name/),
      performance_insights_kms_key_id: fromDatabase('aws_kms_key', /aurora_eu-west-1_key_.+arn/),
    });
    // The in-place major upgrade swaps the instance group too: an apply must not put blue's back.
    expect(instance!.lifecycle).toEqual({ ignore_changes: ['db_parameter_group_name'] });
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

  describe('WHEN green is a global database on a newer major version (staging: 17.6, blue 16.6)', () => {
    const [global] = resourcesOf(green, 'aws_rds_global_cluster').map(({ config }) => config);
    const secondaries = resourcesOf(green, 'aws_rds_cluster').map(({ config }) => config).filter((config) => config.global_cluster_identifier);

    test('THEN a global cluster is made from the green clone, keeping the version the clone has', () => {
      expect(global).toMatchObject({ global_cluster_identifier: 'keycloak-staging-green', provider: 'aws.eu-west-1', deletion_protection: true });
      expect(global.source_db_cluster_identifier).toMatch(/^\$\{aws_rds_cluster\.green_cluster_[A-Z0-9]+\.arn\}$/);
      expect(global.lifecycle.ignore_changes).toEqual(['engine_version']);
    });

    test('THEN every other Region gets a secondary on blue\'s network and that Region\'s key, on green\'s version, with blue\'s ignore rules', () => {
      expect(secondaries).toHaveLength(1);
      const [secondary] = secondaries;
      const fromDatabase = (type: string, name: RegExp) => expect.stringMatching(new RegExp(`cross-stack-reference-input-staging-database\\.outputs\\.cross-stack-output-${type}${name.source}`));
      expect(secondary).toMatchObject({
        cluster_identifier: 'keycloak-staging-eu-central-1-green',
        provider: 'aws.eu-central-1',
        engine_version: '17.6',
        source_region: 'eu-west-1',
        storage_encrypted: true,
        kms_key_id: fromDatabase('aws_kms_key', /aurora_eu-central-1_key_.+arn/),
        db_subnet_group_name: fromDatabase('aws_db_subnet_group', /network-eu-central-1_db-subnets_.+name/),
      });
      expect(secondary.lifecycle.ignore_changes).toEqual(['replication_source_identifier', 'global_cluster_identifier', 'engine_version']);
      expect(secondary).not.toHaveProperty('master_password_wo');
    });

    test('THEN green\'s parameter groups follow its version: the new family in every Region, with blue\'s parameters', () => {
      const groups = resourcesOf(green, 'aws_rds_cluster_parameter_group').map(({ config }) => config);
      expect(groups.map((group) => [group.provider, group.family]).sort()).toEqual([['aws.eu-central-1', 'aurora-postgresql17'], ['aws.eu-west-1', 'aurora-postgresql17']]);
      const names = (group: Record<string, any>) => (group.parameter as Array<{ name: string }>).map((parameter) => parameter.name).sort();
      const [blueGroup] = resourcesOf(database, 'aws_rds_cluster_parameter_group').map(({ config }) => config);
      expect(names(groups[0])).toEqual(names(blueGroup));
      expect(secondaries[0].db_cluster_parameter_group_name).toMatch(/^\$\{aws_rds_cluster_parameter_group\.green-parameters-eu-central-1_cluster-parameters_[A-Z0-9]+\.name\}$/);
      expect(green.output!.green_upgrade_parameter_groups.value).toMatchObject({ engineVersion: '17.6' });
    });
  });

  describe('WHEN green is of blue\'s family, and then goes (blueGreen.greenClusters)', () => {
    const staging = environments.find((env) => env.name === 'staging')!;
    const synth = (blueGreen: NonNullable<typeof staging.blueGreen>) => synthesizeApp([{ ...staging, blueGreen }])[greenStackName('staging')];
    const sameFamily = synth({ enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.9' });
    const unprotected = synth({ enabled: true, green: true, greenGlobal: true, greenEngineVersion: '16.9', greenClusters: 'unprotected' });
    const retired = synth({ enabled: true, green: true, greenEngineVersion: '16.9', greenClusters: 'retired' });

    test('THEN green is created on its own groups, of its family, in every Region, and has none to upgrade to', () => {
      const [clone] = resourcesOf(sameFamily, 'aws_rds_cluster').map(({ config }) => config).filter((config) => config.restore_to_point_in_time);
      expect(clone.db_cluster_parameter_group_name).toMatch(/^\$\{aws_rds_cluster_parameter_group\.green-parameters-eu-west-1_cluster-parameters_[A-Z0-9]+\.name\}$/);
      const instance = resourcesOf(sameFamily, 'aws_rds_cluster_instance').map(({ config }) => config).find((config) => config.identifier === 'keycloak-staging-eu-west-1-green-1')!;
      expect(instance.db_parameter_group_name).toMatch(/^\$\{aws_db_parameter_group\.green-parameters-eu-west-1_instance-parameters_[A-Z0-9]+\.name\}$/);
      expect(resourcesOf(sameFamily, 'aws_rds_cluster_parameter_group').map(({ config }) => [config.provider, config.family, config.tags.Name]).sort())
        .toEqual([['aws.eu-central-1', 'aurora-postgresql16', 'keycloak-staging green aurora-postgresql16'], ['aws.eu-west-1', 'aurora-postgresql16', 'keycloak-staging green aurora-postgresql16']]);
      expect(sameFamily.output).not.toHaveProperty('green_upgrade_parameter_groups');
      expect(clone.final_snapshot_identifier).toBe('keycloak-staging-eu-west-1-green-final-16-9');
    });

    test('THEN every Region\'s provider tags green\'s resources as green, and the secondaries use that Region\'s network', () => {
      for (const provider of sameFamily.provider!.aws) expect(provider.default_tags).toEqual([{ tags: expect.objectContaining({ BlueGreen: 'green', Environment: 'staging' }) }]);
      const secondary = resourcesOf(sameFamily, 'aws_rds_cluster').map(({ config }) => config).find((config) => config.cluster_identifier === 'keycloak-staging-eu-central-1-green')!;
      expect(secondary.vpc_security_group_ids).toEqual([expect.stringMatching(/cross-stack-output-aws_security_groupnetwork-eu-central-1_aurora_/)]);
    });

    test('THEN the sites\' endpoints are green\'s own member in each Region', () => {
      const outputs = Object.keys(sameFamily.output!);
      expect(outputs).toEqual(expect.arrayContaining(['green_global_writer_endpoint', 'green_writer_endpoint', 'green_cluster_identifier']));
      expect(sameFamily.output!.green_cluster_identifier.value).toMatch(/^\$\{aws_rds_cluster\.green_cluster_[A-Z0-9]+\.cluster_identifier\}$/);
    });

    test('THEN unprotected turns off only the deletion protection of the clone, the global cluster and the secondaries', () => {
      const protection = (stack: typeof green) => ['aws_rds_cluster', 'aws_rds_global_cluster'].flatMap((type) => resourcesOf(stack, type).map(({ config }) => config.deletion_protection));
      expect(protection(sameFamily)).toEqual([true, true, true]);
      expect(protection(unprotected)).toEqual([false, false, false]);
    });

    test('THEN retired keeps only green\'s parameter groups: no cluster, no instance, no endpoint', () => {
      expect(Object.keys(retired.resource).sort()).toEqual(['aws_db_parameter_group', 'aws_rds_cluster_parameter_group']);
      expect(resourcesOf(retired, 'aws_rds_cluster_parameter_group')).toHaveLength(2);
      expect(retired.output ?? {}).toEqual({});
    });
  });
});
