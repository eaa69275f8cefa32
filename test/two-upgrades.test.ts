/**
 * Two blue/green upgrades in a row, as the README walks through them: PostgreSQL 15 on blue, 16 on
 * green, then 17 on blue made again from green, and green made again from blue for a third. Each
 * configuration change is compared with the one before, stack by stack, the way a plan would: no
 * live cluster is replaced or changed beyond its deletion protection, only the retiring slot loses
 * clusters, nothing is renamed, and the networks, keys, zone and writer's name never change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { parseEnvironments } from '../environments';
import { addEnvironmentStacks } from '../stacks';
import { StackJson, resourcesOf, synthesizeApp } from './synth';
import { steps } from './two-upgrades-steps';
import { cliConfig, findProviderMirror, requireTerraform, validateStack } from './terraform-harness';

const synthesized = steps.map(({ env }) => synthesizeApp([env]));
const stackNames = [...new Set(synthesized.flatMap((app) => Object.keys(app)))].sort();

const CLUSTER_TYPES = ['aws_rds_cluster', 'aws_rds_global_cluster', 'aws_rds_cluster_instance'];
const GROUP_TYPES = ['aws_rds_cluster_parameter_group', 'aws_db_parameter_group'];
/** What an environment keeps whatever its upgrades: the networks, keys, zone and name. */
const STANDING_TYPES = ['aws_vpc', 'aws_subnet', 'aws_security_group', 'aws_db_subnet_group', 'aws_kms_key', 'aws_kms_alias', 'aws_route53_zone', 'aws_route53_record'];
/** Attributes Terraform changes in place, without touching the cluster's data. */
const IN_PLACE = new Set(['deletion_protection', 'final_snapshot_identifier']);

interface PlannedChange { readonly address: string; readonly type: string; readonly before?: Record<string, any>; readonly after?: Record<string, any>; readonly attributes: string[] }

function resourceMap(stack: StackJson | undefined): Map<string, { type: string; config: Record<string, any> }> {
  return new Map(Object.entries(stack?.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([name, config]) => [`${type}.${name}`, { type, config }] as const)));
}

/** The attributes a plan would change: every top-level one that differs, except what the resource tells Terraform to ignore. */
function changedAttributes(before: Record<string, any>, after: Record<string, any>): string[] {
  const ignored = new Set<string>(after.lifecycle?.ignore_changes ?? []);
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !['//', 'lifecycle', 'depends_on', 'timeouts'].includes(key) && !ignored.has(key))
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

function plan(before: StackJson | undefined, after: StackJson | undefined): PlannedChange[] {
  const [was, is] = [resourceMap(before), resourceMap(after)];
  return [...new Set([...was.keys(), ...is.keys()])].sort().flatMap((address) => {
    const [old, current] = [was.get(address), is.get(address)];
    const attributes = old && current ? changedAttributes(old.config, current.config) : [];
    if (old && current && attributes.length === 0) return [];
    return [{ address, type: (old ?? current)!.type, before: old?.config, after: current?.config, attributes }];
  });
}

const identifierOf = (config: Record<string, any>): string => config.identifier ?? config.cluster_identifier ?? config.global_cluster_identifier;
const slotOf = (config: Record<string, any>) => (/-green(-\d+)?$/.test(identifierOf(config)) ? 'green' : 'blue');

/** Whether a cluster or instance uses a parameter group in an attribute an apply keeps in line. */
function usedBy(groupName: string, app: Record<string, StackJson>): string[] {
  return Object.values(app).flatMap((stack) => CLUSTER_TYPES.flatMap((type) => resourcesOf(stack, type)))
    .filter(({ config }) => {
      const ignored = new Set<string>(config.lifecycle?.ignore_changes ?? []);
      return ['db_cluster_parameter_group_name', 'db_parameter_group_name'].some((key) => !ignored.has(key) && String(config[key] ?? '').includes(groupName));
    })
    .map(({ config }) => identifierOf(config));
}

const transitions = steps.slice(1).map((step, index) => ({ from: steps[index], to: step, before: synthesized[index], after: synthesized[index + 1] }));

describe('two blue/green upgrades in a row', () => {
  describe.each(transitions.map((transition) => [`${transition.from.label} → ${transition.to.label}`, transition] as const))('%s', (_, { to, before, after }) => {
    const changes = stackNames.flatMap((stack) => plan(before[stack], after[stack]).map((change) => ({ stack, ...change })));

    test('no cluster, global cluster or instance that stays changes beyond its deletion protection', () => {
      const changed = changes.filter((change) => CLUSTER_TYPES.includes(change.type) && change.before && change.after);
      expect(changed.filter((change) => change.attributes.some((attribute) => !IN_PLACE.has(attribute))).map((change) => `${change.address}: ${change.attributes.join(', ')}`)).toEqual([]);
    });

    test(to.retires ? `only ${to.retires}'s clusters go` : 'no cluster goes', () => {
      const gone = changes.filter((change) => CLUSTER_TYPES.includes(change.type) && !change.after).map((change) => change.before!);
      expect(gone.filter((config) => slotOf(config) !== to.retires).map(identifierOf)).toEqual([]);
      if (to.retires) expect(gone.length).toBeGreaterThan(0);
      // RDS refuses to delete a protected cluster: the apply before must have lifted the protection.
      expect(gone.filter((config) => config.deletion_protection === true).map(identifierOf)).toEqual([]);
    });

    test('the networks, keys, zone and writer\'s name stay exactly as they are', () => {
      expect(changes.filter((change) => STANDING_TYPES.includes(change.type)).map((change) => change.address)).toEqual([]);
    });

    test('a parameter group is replaced or removed only when no cluster runs on it', () => {
      const replaced = changes.filter((change) => GROUP_TYPES.includes(change.type) && change.before && (!change.after || change.attributes.includes('family') || change.attributes.includes('name_prefix')));
      const names = replaced.map((change) => change.address.split('.')[1]);
      expect(names.flatMap((name) => usedBy(name, before).map((cluster) => `${name} used by ${cluster}`))).toEqual([]);
    });

    test('the sites keep their resources', () => {
      for (const stack of stackNames.filter((name) => name.endsWith('-access'))) {
        expect([...resourceMap(after[stack]).keys()]).toEqual([...resourceMap(before[stack]).keys()]);
      }
    });
  });

  const [, , greenGlobal, , , , blueClone, blueGlobal, blueLive, , greenRetired, greenAgain] = synthesized;
  const database = (app: Record<string, StackJson>) => app['staging-database'];

  test('WHEN blue is made from green THEN it is a copy-on-write clone of green\'s member in green\'s Region, alone, on groups of green\'s family', () => {
    const clusters = resourcesOf(database(blueClone), 'aws_rds_cluster').map(({ config }) => config);
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({
      cluster_identifier: 'keycloak-staging-eu-west-1',
      restore_to_point_in_time: { source_cluster_identifier: 'keycloak-staging-eu-west-1-green', restore_type: 'copy-on-write', use_latest_restorable_time: true },
      final_snapshot_identifier: 'keycloak-staging-eu-west-1-final-17-6',
      tags: { ClonedFrom: 'keycloak-staging-eu-west-1-green' },
    });
    expect(clusters[0].master_username).toBeUndefined();
    expect(clusters[0].lifecycle.ignore_changes).toEqual(expect.arrayContaining(['restore_to_point_in_time', 'engine_version', 'db_cluster_parameter_group_name', 'global_cluster_identifier']));
    expect(resourcesOf(database(blueClone), 'aws_rds_global_cluster')).toEqual([]);
    const families = Object.fromEntries(resourcesOf(database(blueClone), 'aws_rds_cluster_parameter_group').map(({ name, config }) => [name, config.family]));
    const creationGroup = clusters[0].db_cluster_parameter_group_name.replace(/^\$\{aws_rds_cluster_parameter_group\.([^.]+)\.name\}$/, '$1');
    expect(families[creationGroup]).toBe('aurora-postgresql16');
    // Blue's own groups are of blue's new family: the in-place upgrade moves the clone onto them.
    const upgrade = database(blueClone).output!.blue_upgrade_parameter_groups.value;
    expect(upgrade.engineVersion).toBe('17.6');
    expect(families[upgrade.cluster.replace(/^\$\{aws_rds_cluster_parameter_group\.([^.]+)\.name\}$/, '$1')]).toBe('aurora-postgresql17');
    // The handlers still follow green, the live database.
    for (const { config } of resourcesOf(database(blueClone), 'aws_lambda_function')) expect(config.environment.variables.GLOBAL_CLUSTER_IDENTIFIER).toBe('keycloak-staging-green');
  });

  test('WHEN blue made from green goes global THEN its global cluster comes from the clone and its secondary runs blue\'s new version', () => {
    const [global] = resourcesOf(database(blueGlobal), 'aws_rds_global_cluster').map(({ config }) => config);
    expect(global).toMatchObject({ global_cluster_identifier: 'keycloak-staging', force_destroy: false, deletion_protection: true });
    expect(global.source_db_cluster_identifier).toMatch(/^\$\{aws_rds_cluster\.aurora_eu-west-1_cluster_[A-F0-9]+\.arn\}$/);
    const secondary = resourcesOf(database(blueGlobal), 'aws_rds_cluster').map(({ config }) => config).find((config) => config.cluster_identifier === 'keycloak-staging-eu-central-1')!;
    expect(secondary).toMatchObject({ engine_version: '17.6', source_region: 'eu-west-1', skip_final_snapshot: true });
    expect(secondary.global_cluster_identifier).toMatch(/^\$\{aws_rds_global_cluster\.aurora_global_[A-F0-9]+\.id\}$/);
  });

  test('WHEN blue made from green is live THEN the handlers and the sites follow blue again', () => {
    for (const { config } of resourcesOf(database(blueLive), 'aws_lambda_function')) {
      expect(config.environment.variables).toMatchObject({ GLOBAL_CLUSTER_IDENTIFIER: 'keycloak-staging', MEMBER_CLUSTER_IDENTIFIERS: 'keycloak-staging-eu-west-1,keycloak-staging-eu-central-1' });
    }
    const url: string = blueLive['staging-site-a-access'].output!.keycloak_env.value.KC_DB_URL;
    expect(url).toContain('cross-stack-reference-input-staging-database');
    expect(url).not.toContain('staging-green');
  });

  test('WHEN green is retired THEN its stack keeps only its parameter groups, and green made again has the addresses green had', () => {
    expect(Object.keys(greenRetired['staging-green'].resource).sort()).toEqual([...GROUP_TYPES].sort());
    const addresses = (stack: StackJson) => [...resourceMap(stack).keys()].sort();
    expect(addresses(greenAgain['staging-green'])).toEqual(addresses(synthesized[1]['staging-green']));
    expect(addresses(greenGlobal['staging-green']).length).toBeGreaterThan(addresses(greenAgain['staging-green']).length);
    // Of blue's family, green is created on its own groups, not on blue's: blue can go or change without touching it.
    const [clone] = resourcesOf(greenAgain['staging-green'], 'aws_rds_cluster').map(({ config }) => config);
    expect(clone.db_cluster_parameter_group_name).toMatch(/^\$\{aws_rds_cluster_parameter_group\.green-parameters-eu-west-1_cluster-parameters_[A-F0-9]+\.name\}$/);
    expect(resourcesOf(greenAgain['staging-green'], 'aws_rds_cluster_parameter_group').map(({ config }) => config.family)).toEqual(['aurora-postgresql17', 'aurora-postgresql17']);
  });

  describe('under real Terraform and the AWS provider schema', () => {
    requireTerraform();
    const workspace = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-two-upgrades-'));
    const checked = [[6, 'staging-database'], [7, 'staging-database'], [10, 'staging-green']] as const;
    for (const [index] of checked) {
      const app = new App({ outdir: join(workspace, `step${index}`) });
      addEnvironmentStacks(app, parseEnvironments([steps[index].env]));
      app.synth();
    }
    const cliConfigFile = join(workspace, 'terraform.rc');
    writeFileSync(cliConfigFile, cliConfig(findProviderMirror('5.100.0')));
    afterAll(() => rmSync(workspace, { recursive: true, force: true }));

    test.concurrent.each(checked.map(([index, stack]) => [steps[index].label, stack, index] as const))('%s: %s passes validate and a mock-provider plan', async (_, stack, index) => {
      const [, validate, mockedPlan] = await validateStack(join(workspace, `step${index}`, 'stacks', stack), join(workspace, 'work', `step${index}-${stack}`), cliConfigFile);
      expect(validate.output).toContain('Success! The configuration is valid.');
      expect(mockedPlan.output).toMatch(/Success! \d+ passed, 0 failed\./);
    }, 300_000);
  });
});
