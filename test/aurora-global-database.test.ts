import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { AuroraGlobalDatabase, AuroraGlobalDatabaseProps } from '../modules/aurora-global-database';
import { StackJson, referencedName, resourcesOf, synthesize } from './synth';

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1'];

function synthDatabase(props: Partial<AuroraGlobalDatabaseProps> = {}): { database: AuroraGlobalDatabase; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const regions = REGIONS.map((region) => ({
    region,
    provider: new AwsProvider(stack, `aws-${region}`, { region, alias: region }),
    dbSubnetGroupName: `subnets-${region}`,
    securityGroupIds: [`sg-${region}`],
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
  }));
  const database = new AuroraGlobalDatabase(stack, 'db', {
    globalClusterIdentifier: 'keycloak',
    regions,
    engineVersion: '16.6',
    instancesPerRegion: 2,
    masterPassword: '${var.master_password}',
    ...props,
  });
  if (database.globalWriterEndpoint) new TerraformOutput(stack, 'global_writer_endpoint', { value: database.globalWriterEndpoint });
  return { database, json: synthesize(stack) };
}

const clusterIn = (json: StackJson, region: string) =>
  resourcesOf(json, 'aws_rds_cluster').find(({ config }) => config.provider === `aws.${region}`)!.config;

describe('AuroraGlobalDatabase', () => {
  describe('GIVEN retired: true (a blue/green blue once green is live)', () => {
    const kept = synthDatabase().json;
    const { database, json } = synthDatabase({ retired: true });

    test('THEN the global cluster, the clusters and the instances are gone', () => {
      for (const type of ['aws_rds_global_cluster', 'aws_rds_cluster', 'aws_rds_cluster_instance']) expect(resourcesOf(json, type)).toEqual([]);
      expect([database.globalCluster, database.globalWriterEndpoint, database.regionalClusters]).toEqual([undefined, undefined, []]);
    });

    test('THEN each Region keeps its key and parameter groups at the same address, configured the same, so a copy encrypted with them is untouched', () => {
      for (const type of ['aws_kms_key', 'aws_kms_alias', 'aws_rds_cluster_parameter_group', 'aws_db_parameter_group']) {
        expect(json.resource[type]).toEqual(kept.resource[type]);
        expect(resourcesOf(json, type)).toHaveLength(REGIONS.length);
      }
      expect(database.regionalResources.map(({ region }) => region)).toEqual(REGIONS);
    });
  });

  describe('GIVEN three Regions with two instances each', () => {
    const { database, json } = synthDatabase();
    const [primaryRegion, ...secondaryRegions] = REGIONS;

    test('THEN one encrypted global cluster owns the engine version, in the primary Region, without a database name', () => {
      const [global] = resourcesOf(json, 'aws_rds_global_cluster');
      expect(resourcesOf(json, 'aws_rds_global_cluster')).toHaveLength(1);
      expect(global.config).toMatchObject({
        global_cluster_identifier: 'keycloak',
        engine: 'aurora-postgresql',
        engine_version: '16.6',
        storage_encrypted: true,
        deletion_protection: true,
        provider: `aws.${primaryRegion}`,
      });
      expect(global.config).not.toHaveProperty('database_name');
    });

    test('THEN every member takes its engine version from the global cluster and ignores later drift', () => {
      for (const { config } of resourcesOf(json, 'aws_rds_cluster')) {
        expect(config.engine_version).toMatch(/^\$\{aws_rds_global_cluster\.[^.]+\.engine_version\}$/);
        expect(config.lifecycle.ignore_changes).toEqual(
          expect.arrayContaining(['replication_source_identifier', 'global_cluster_identifier', 'engine_version']),
        );
      }
    });

    test('THEN only the primary has a master user, a write-only password, the database name and a final snapshot', () => {
      expect(clusterIn(json, primaryRegion)).toMatchObject({
        cluster_identifier: 'keycloak-eu-west-1',
        master_username: 'keycloak',
        master_password_wo: '${var.master_password}',
        master_password_wo_version: 1,
        database_name: 'keycloak',
        skip_final_snapshot: false,
        final_snapshot_identifier: 'keycloak-eu-west-1-final',
      });
      expect(clusterIn(json, primaryRegion)).not.toHaveProperty('master_password');
      for (const region of secondaryRegions) {
        const secondary = clusterIn(json, region);
        for (const field of ['master_username', 'master_password', 'master_password_wo', 'database_name']) {
          expect(secondary).not.toHaveProperty(field);
        }
        expect(secondary.source_region).toBe(primaryRegion);
        expect(secondary.cluster_identifier).toBe(`keycloak-${region}`);
      }
    });

    test('THEN every secondary waits for all of the primary instances', () => {
      const primaryInstances = resourcesOf(json, 'aws_rds_cluster_instance')
        .filter(({ config }) => config.provider === `aws.${primaryRegion}`)
        .map(({ name }) => `aws_rds_cluster_instance.${name}`);
      expect(primaryInstances).toHaveLength(2);
      for (const region of secondaryRegions) {
        expect(clusterIn(json, region).depends_on).toEqual(primaryInstances);
      }
      expect(clusterIn(json, primaryRegion)).not.toHaveProperty('depends_on');
    });

    test("THEN every cluster is encrypted with its own Region's rotating customer-managed key", () => {
      const keys = json.resource.aws_kms_key;
      const usedKeys = REGIONS.map((region) => {
        const cluster = clusterIn(json, region);
        expect(cluster.storage_encrypted).toBe(true);
        const keyName = referencedName(cluster.kms_key_id, 'aws_kms_key');
        expect(keys[keyName]).toMatchObject({ provider: `aws.${region}`, enable_key_rotation: true });
        return keyName;
      });
      expect(new Set(usedKeys).size).toBe(REGIONS.length);
    });

    test('THEN each cluster parameter group is of the engine family, in its Region, and requires TLS', () => {
      for (const region of REGIONS) {
        const group = json.resource.aws_rds_cluster_parameter_group[
          referencedName(clusterIn(json, region).db_cluster_parameter_group_name, 'aws_rds_cluster_parameter_group')
        ];
        expect(group).toMatchObject({ family: 'aurora-postgresql16', provider: `aws.${region}`, name_prefix: `keycloak-${region}-` });
        expect(group.lifecycle.create_before_destroy).toBe(true);
        expect(group.parameter).toContainEqual({ name: 'rds.force_ssl', value: '1', apply_method: 'immediate' });
        expect(group.parameter.map((p: { name: string }) => p.name)).not.toContain('rds.logical_replication');
      }
    });

    test('THEN logs and deletion protection and backups are on for every member', () => {
      for (const region of REGIONS) {
        expect(clusterIn(json, region)).toMatchObject({
          enabled_cloudwatch_logs_exports: ['postgresql'],
          deletion_protection: true,
          backup_retention_period: 7,
          db_subnet_group_name: `subnets-${region}`,
          vpc_security_group_ids: [`sg-${region}`],
        });
      }
    });

    test('THEN instances are spread over the availability zones with Performance Insights on their Region key', () => {
      for (const region of REGIONS) {
        const instances = resourcesOf(json, 'aws_rds_cluster_instance').filter(({ config }) => config.provider === `aws.${region}`);
        expect(instances.map(({ config }) => config.identifier)).toEqual([`keycloak-${region}-1`, `keycloak-${region}-2`]);
        expect(instances.map(({ config }) => config.availability_zone)).toEqual([`${region}a`, `${region}b`]);
        const keyOfCluster = referencedName(clusterIn(json, region).kms_key_id, 'aws_kms_key');
        for (const { config } of instances) {
          expect(config).toMatchObject({
            instance_class: 'db.r6g.large',
            engine: 'aurora-postgresql',
            publicly_accessible: false,
            auto_minor_version_upgrade: false,
            performance_insights_enabled: true,
            performance_insights_retention_period: 7,
          });
          expect(referencedName(config.performance_insights_kms_key_id, 'aws_kms_key')).toBe(keyOfCluster);
        }
      }
    });

    test('THEN the construct exposes the global writer endpoint and the members in Region order', () => {
      expect(database.regionalClusters.map((member) => [member.region, member.isInitialPrimary])).toEqual([
        ['eu-west-1', true],
        ['eu-central-1', false],
        ['us-east-1', false],
      ]);
      expect(json.output!.global_writer_endpoint.value).toMatch(/^\$\{aws_rds_global_cluster\.[^.]+\.endpoint\}$/);
    });
  });

  describe('WHEN logical replication is on for two subscribers and a parameter is overridden', () => {
    const { json } = synthDatabase({ logicalReplicationSubscribers: 2, clusterParameters: { max_replication_slots: '20', log_min_duration_statement: '500' } });
    const parameters = Object.values(json.resource.aws_rds_cluster_parameter_group)[0].parameter as Array<Record<string, string>>;

    test('THEN the settings are sized for the subscribers, static ones wait for a reboot, and the override wins', () => {
      expect(parameters).toEqual(
        expect.arrayContaining([
          { name: 'rds.logical_replication', value: '1', apply_method: 'pending-reboot' },
          { name: 'max_replication_slots', value: '20', apply_method: 'pending-reboot' },
          { name: 'max_wal_senders', value: '8', apply_method: 'pending-reboot' },
          { name: 'max_logical_replication_workers', value: '6', apply_method: 'pending-reboot' },
          { name: 'max_worker_processes', value: '14', apply_method: 'pending-reboot' },
          { name: 'log_min_duration_statement', value: '500', apply_method: 'immediate' },
        ]),
      );
    });
  });

  describe('WHEN the engine is 15.x', () => {
    test('THEN both parameter groups are of family aurora-postgresql15', () => {
      const { json } = synthDatabase({ engineVersion: '15.10' });
      for (const type of ['aws_rds_cluster_parameter_group', 'aws_db_parameter_group']) {
        for (const { config } of resourcesOf(json, type)) expect(config.family).toBe('aurora-postgresql15');
      }
    });
  });

  describe('WHEN deletion protection is off and the final snapshot skipped', () => {
    test('THEN the global cluster and members follow', () => {
      const { json } = synthDatabase({ deletionProtection: false, skipFinalSnapshot: true });
      expect(resourcesOf(json, 'aws_rds_global_cluster')[0].config.deletion_protection).toBe(false);
      expect(clusterIn(json, 'eu-west-1')).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
      expect(clusterIn(json, 'eu-west-1')).not.toHaveProperty('final_snapshot_identifier');
    });
  });

  describe('GIVEN tags', () => {
    const { json } = synthDatabase({ tags: { Team: 'identity' } });

    test('THEN each key has an alias and a description naming its cluster, and every key, group, cluster and instance carries the tags', () => {
      expect(resourcesOf(json, 'aws_kms_alias').map(({ config }) => config.name).sort()).toEqual(REGIONS.map((region) => `alias/keycloak-${region}`).sort());
      for (const region of REGIONS) {
        expect(resourcesOf(json, 'aws_kms_key').map(({ config }) => config)).toContainEqual(expect.objectContaining({
          provider: `aws.${region}`, description: `Aurora storage and Performance Insights of keycloak-${region}`, tags: { Team: 'identity', Name: `keycloak-${region}` },
        }));
      }
      for (const type of ['aws_rds_cluster_parameter_group', 'aws_db_parameter_group', 'aws_rds_cluster', 'aws_rds_cluster_instance']) {
        for (const { config } of resourcesOf(json, type)) expect(config.tags).toMatchObject({ Team: 'identity' });
      }
    });

    test('THEN clusters copy their tags to snapshots and may take two hours to create, change or delete', () => {
      for (const region of REGIONS) expect(clusterIn(json, region)).toMatchObject({ copy_tags_to_snapshot: true, timeouts: { create: '120m', update: '120m', delete: '120m' } });
    });
  });

  describe('GIVEN cloneOf (blue made again from a live green)', () => {
    const source = { clusterIdentifier: 'keycloak-eu-central-1-green', region: 'eu-central-1', engineVersion: '16.6' };
    const alone = synthDatabase({ cloneOf: source });
    const global = synthDatabase({ cloneOf: { ...source, global: true } });

    test('THEN the clone is made in its source\'s Region, restored copy-on-write, without credentials, and alone until it is made global', () => {
      expect(resourcesOf(alone.json, 'aws_rds_cluster')).toHaveLength(1);
      expect(resourcesOf(alone.json, 'aws_rds_global_cluster')).toEqual([]);
      const clone = clusterIn(alone.json, 'eu-central-1');
      expect(clone).toMatchObject({
        cluster_identifier: 'keycloak-eu-central-1',
        restore_to_point_in_time: { source_cluster_identifier: 'keycloak-eu-central-1-green', restore_type: 'copy-on-write', use_latest_restorable_time: true },
        skip_final_snapshot: false,
        final_snapshot_identifier: 'keycloak-eu-central-1-final-16-6',
        tags: { Name: 'keycloak-eu-central-1', ClonedFrom: 'keycloak-eu-central-1-green' },
      });
      // Restored once, upgraded in place: an apply must neither restore again nor put the old groups, version or membership back.
      expect(clone.lifecycle.ignore_changes).toEqual(['replication_source_identifier', 'global_cluster_identifier', 'engine_version', 'restore_to_point_in_time', 'db_cluster_parameter_group_name']);
      for (const { config } of resourcesOf(alone.json, 'aws_rds_cluster_instance')) expect(config.lifecycle.ignore_changes).toEqual(['db_parameter_group_name']);
      for (const attribute of ['master_username', 'master_password_wo', 'database_name', 'global_cluster_identifier', 'engine_version']) expect(clone).not.toHaveProperty(attribute);
      expect(alone.database.regionalClusters.map(({ region, isInitialPrimary }) => [region, isInitialPrimary])).toEqual([['eu-central-1', true]]);
      expect(alone.database.globalWriterEndpoint).toBeUndefined();
      // Of the same family, the clone starts on its own groups: there is nothing to upgrade to.
      expect(referencedName(clone.db_cluster_parameter_group_name, 'aws_rds_cluster_parameter_group')).toMatch(/^db_eu-central-1_cluster-parameters_/);
      expect(alone.database.cloneUpgradeParameterGroups).toBeUndefined();
    });

    test('THEN made global, the global cluster comes from the clone and every other Region gets a secondary of it', () => {
      const [globalCluster] = resourcesOf(global.json, 'aws_rds_global_cluster').map(({ config }) => config);
      expect(referencedName(globalCluster.source_db_cluster_identifier, 'aws_rds_cluster')).toBe(resourcesOf(global.json, 'aws_rds_cluster').find(({ config }) => config.provider === 'aws.eu-central-1')!.name);
      expect(globalCluster).not.toHaveProperty('engine');
      expect(globalCluster).toMatchObject({ global_cluster_identifier: 'keycloak', force_destroy: false, deletion_protection: true, lifecycle: { ignore_changes: ['engine_version'] } });
      // Secondaries keep blue's ignore rules, without a clone's.
      expect(clusterIn(global.json, 'eu-west-1').lifecycle.ignore_changes).toEqual(['replication_source_identifier', 'global_cluster_identifier', 'engine_version']);
      expect(clusterIn(global.json, 'eu-west-1').tags).not.toHaveProperty('ClonedFrom');
      for (const region of ['eu-west-1', 'us-east-1']) {
        expect(clusterIn(global.json, region)).toMatchObject({ source_region: 'eu-central-1', engine_version: '16.6', skip_final_snapshot: true });
      }
      expect(global.database.regionalClusters.map(({ region }) => region)).toEqual(REGIONS);
    });

    test('THEN of an older family, the clone is created on groups of its source\'s family and its own are the ones to upgrade to', () => {
      const { database, json } = synthDatabase({ engineVersion: '17.6', cloneOf: source });
      const clone = clusterIn(json, 'eu-central-1');
      const families = Object.fromEntries(resourcesOf(json, 'aws_rds_cluster_parameter_group').map(({ name, config }) => [name, config.family]));
      const creation = resourcesOf(json, 'aws_rds_cluster_parameter_group').find(({ name }) => name === referencedName(clone.db_cluster_parameter_group_name, 'aws_rds_cluster_parameter_group'))!.config;
      expect(creation).toMatchObject({ family: 'aurora-postgresql16', name_prefix: 'keycloak-eu-central-1-', tags: { Name: 'keycloak-eu-central-1 clone of keycloak-eu-central-1-green' } });
      expect(families[referencedName(clone.db_cluster_parameter_group_name, 'aws_rds_cluster_parameter_group')]).toBe('aurora-postgresql16');
      expect(database.cloneUpgradeParameterGroups!.clusterParameterGroup.familyInput).toBe('aurora-postgresql17');
      expect(clone.final_snapshot_identifier).toBe('keycloak-eu-central-1-final-17-6');
    });

    test('THEN a source outside the regions is refused', () => {
      expect(() => synthDatabase({ cloneOf: { ...source, region: 'us-west-2' } })).toThrow(/cloneOf.region us-west-2 must be one of the regions/);
    });
  });

  describe('WHEN props break the rules', () => {
    test.each<[string, Partial<AuroraGlobalDatabaseProps>, RegExp]>([
      ['identifier', { globalClusterIdentifier: 'Keycloak' }, /globalClusterIdentifier Keycloak must start with a lowercase letter/],
      ['derived identifier', { globalClusterIdentifier: 'k'.repeat(50) }, /derived identifier k{50}-eu-central-1-2 must be 1 to 63 characters long, is 65/],
      ['engine version', { engineVersion: '16' }, /engineVersion 16 must be an Aurora PostgreSQL version/],
      ['instance class', { instanceClass: 'db.t4g.medium' }, /instanceClass db.t4g.medium must be a memory-optimized class/],
      ['instances', { instancesPerRegion: 0 }, /instancesPerRegion must be a whole number from 1 to 16, is 0/],
      ['regions', { regions: [] }, /regions must hold at least the primary Region/],
    ])('THEN a bad %s throws naming the prop', (_rule, props, expected) => {
      expect(() => synthDatabase(props)).toThrow(expected);
    });
  });
});
