/**
 * After a cut-over: green takes the writes (blueGreen.live), then blue's clusters lose their
 * protection and go (blueGreen.blueClusters), without touching green, the networks, the writer's
 * name or the sites' resources.
 */
import { App } from 'cdktf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentInput, environments, parseEnvironments } from '../environments';
import { addEnvironmentStacks } from '../stacks';
import { StackJson, resourcesOf, synthesizeApp } from './synth';
import { cliConfig, findProviderMirror, requireTerraform, validateStack } from './terraform-harness';

const staging = environments.find((env) => env.name === 'staging')!;
const withBlueGreen = (change: Partial<NonNullable<EnvironmentInput['blueGreen']>>): EnvironmentInput =>
  ({ ...staging, blueGreen: { ...staging.blueGreen!, ...change } });

const before = synthesizeApp([staging]);
const live = synthesizeApp([withBlueGreen({ live: 'green' })]);
const unprotected = synthesizeApp([withBlueGreen({ live: 'green', blueClusters: 'unprotected' })]);
const retired = synthesizeApp([withBlueGreen({ live: 'green', blueClusters: 'retired' })]);

/** Every resource's address and configuration, for comparing what a plan would change. */
const addresses = (stack: StackJson) => Object.entries(stack.resource).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)).sort();
const handlerEnvironment = (stack: StackJson) =>
  resourcesOf(stack, 'aws_lambda_function').map(({ config }) => config.environment.variables);

describe('blue/green after the cut-over: green live, blue retired', () => {
  test('the environment refuses a live green that is not global, and touching blue while it is live', () => {
    expect(() => parseEnvironments([withBlueGreen({ greenGlobal: false, live: 'green' })]))
      .toThrow(/blueGreen\.live: green takes the writes only as a global database over every Region \(green: true, greenGlobal: true\)/);
    expect(() => parseEnvironments([withBlueGreen({ blueClusters: 'retired' })]))
      .toThrow(/blueGreen\.blueClusters: retired: blue's clusters may lose their protection or go only once green takes the writes \(live: 'green'\)/);
  });

  test('WHEN green is live THEN every Region\'s handler follows green\'s global cluster and members, by ARN', () => {
    for (const variables of handlerEnvironment(live['staging-database'])) {
      expect(variables).toMatchObject({ GLOBAL_CLUSTER_IDENTIFIER: 'keycloak-staging-green', MEMBER_CLUSTER_IDENTIFIERS: 'keycloak-staging-eu-west-1-green,keycloak-staging-eu-central-1-green' });
      expect(variables.OWN_CLUSTER_IDENTIFIER).toMatch(/^keycloak-staging-eu-(west|central)-1-green$/);
    }
    const policies = JSON.stringify(resourcesOf(live['staging-database'], 'aws_iam_role_policy').map(({ config }) => config.policy));
    expect(policies).toContain('global-cluster:keycloak-staging-green');
    expect(policies).toContain('cluster:keycloak-staging-eu-central-1-green');
    expect(policies).not.toMatch(/aws_rds_global_cluster|cluster:keycloak-staging-eu-west-1"/);
    // The writer's name and zone stay exactly as they were: the same record, never replaced.
    expect(resourcesOf(live['staging-database'], 'aws_route53_record').map(({ name }) => name)).toEqual(resourcesOf(before['staging-database'], 'aws_route53_record').map(({ name }) => name));
  });

  test('WHEN green is live THEN the sites\' JDBC URL keeps the name first and falls back to green\'s clusters, with the same resources', () => {
    const url: string = live['staging-site-a-access'].output!.keycloak_env.value.KC_DB_URL;
    expect(url).toMatch(/^jdbc:postgresql:\/\/keycloak-staging\.aurora-global\.staging\.keycloak\.internal:5432,/);
    const fallbacks = [...url.matchAll(/remote_state\.cross-stack-reference-input-([a-z-]+)\.outputs\.cross-stack-output-aws_rds_cluster([a-z0-9_-]+?)_[A-F0-9]{8}endpoint/g)].map(([, stack, cluster]) => `${stack} ${cluster}`);
    // The site's own Region (eu-west-1: the clone) first.
    expect(fallbacks).toEqual(['staging-green green_cluster', 'staging-green green-global_eu-central-1_cluster']);
    expect(addresses(live['staging-site-a-access'])).toEqual(addresses(before['staging-site-a-access']));
    // Green gains outputs for the sites, and no resource.
    expect(live['staging-green'].resource).toEqual(before['staging-green'].resource);
  });

  test('WHEN green is live THEN the DR plans and parameters move green\'s global cluster', () => {
    const prod = environments.find((env) => env.name === 'prod')!;
    const dr = synthesizeApp([{ ...prod, blueGreen: { enabled: true, green: true, greenGlobal: true, live: 'green' } }])['prod-dr'];
    const values = resourcesOf(dr, 'aws_ssm_parameter').map(({ config }) => config.value).filter((value: string) => !value.startsWith('{'));
    expect(values).toContain('keycloak-prod-green');
    expect(values.filter((value: string) => value.includes(':cluster:')).map((value: string) => value.replace(/^.*:cluster:/, '')).sort())
      .toEqual(['keycloak-prod-eu-central-1-green', 'keycloak-prod-eu-central-1-green', 'keycloak-prod-eu-west-1-green', 'keycloak-prod-eu-west-1-green']);
  });

  test('WHEN blue is unprotected THEN only its deletion protection changes', () => {
    const protection = (stack: StackJson) => [...resourcesOf(stack, 'aws_rds_cluster'), ...resourcesOf(stack, 'aws_rds_global_cluster')].map(({ config }) => config.deletion_protection);
    expect(protection(live['staging-database'])).toEqual([true, true, true]);
    expect(protection(unprotected['staging-database'])).toEqual([false, false, false]);
    expect(addresses(unprotected['staging-database'])).toEqual(addresses(live['staging-database']));
  });

  test('WHEN blue is retired THEN its global cluster, clusters and instances go, and nothing else does', () => {
    const gone = addresses(live['staging-database']).filter((address) => !addresses(retired['staging-database']).includes(address));
    expect(gone.length).toBeGreaterThan(0);
    for (const address of gone) expect(address).toMatch(/^aws_rds_(global_cluster|cluster|cluster_instance)\./);
    expect(addresses(retired['staging-database']).filter((address) => !addresses(live['staging-database']).includes(address))).toEqual([]);
    // The keys and parameter groups green is encrypted with and runs on stay, configured as before.
    for (const type of ['aws_kms_key', 'aws_kms_alias', 'aws_rds_cluster_parameter_group', 'aws_db_parameter_group', 'aws_vpc', 'aws_route53_record']) {
      expect(retired['staging-database'].resource[type]).toEqual(live['staging-database'].resource[type]);
    }
    expect(retired['staging-database'].output?.global_writer_endpoint).toBeUndefined();
  });

  test('WHEN blue is retired THEN green and the sites\' resources are untouched', () => {
    for (const stack of ['staging-green', 'staging-site-a-access', 'staging-site-b-access']) {
      expect(retired[stack].resource).toEqual(live[stack].resource);
    }
  });

  describe('under real Terraform and the AWS provider schema', () => {
    requireTerraform();
    const workspace = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-live-green-'));
    const outdir = join(workspace, 'cdktf.out');
    const app = new App({ outdir });
    addEnvironmentStacks(app, parseEnvironments([withBlueGreen({ live: 'green', blueClusters: 'retired' })]));
    app.synth();
    const cliConfigFile = join(workspace, 'terraform.rc');
    writeFileSync(cliConfigFile, cliConfig(findProviderMirror('5.100.0')));
    afterAll(() => rmSync(workspace, { recursive: true, force: true }));

    test.concurrent.each(['staging-database', 'staging-site-a-access'])('%s with blue retired passes validate and a mock-provider plan', async (stack) => {
      const [, validate, plan] = await validateStack(join(outdir, 'stacks', stack), join(workspace, 'work', stack), cliConfigFile);
      expect(validate.output).toContain('Success! The configuration is valid.');
      expect(plan.output).toMatch(/Success! \d+ passed, 0 failed\./);
    }, 300_000);
  });
});
