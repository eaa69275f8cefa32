import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentInput, EnvironmentValidationError, environments } from '../environments';
import { synthesizeEnvironments } from '../stacks';
import { environmentInput, siteA } from './environment-fixtures';

describe('synthesizeEnvironments', () => {
  let workspace: string;
  beforeEach(() => (workspace = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-app-'))));
  afterEach(() => rmSync(workspace, { recursive: true, force: true }));

  test('GIVEN the example environments THEN each has a database stack, and per site an access stack that depends on it', () => {
    const outdir = join(workspace, 'out');
    synthesizeEnvironments(environments, outdir);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    const dependencies = Object.fromEntries(
      Object.entries<{ dependencies: string[] }>(manifest.stacks).map(([name, stack]) => [name, stack.dependencies]),
    );
    expect(dependencies).toEqual({
      'dev-database': [],
      'dev-rosa-dev-access': ['dev-database'],
      'staging-database': [],
      'staging-green': ['staging-database'],
      'staging-site-a-access': ['staging-database'],
      'staging-site-b-access': ['staging-database'],
      'prod-database': [],
      'prod-dr': [],
      'prod-site-a-access': ['prod-database'],
      'prod-site-b-access': ['prod-database'],
    });
  });

  test('GIVEN two environments whose derived stack names meet THEN validation refuses them and nothing is written', () => {
    const outdir = join(workspace, 'out');
    const single = { layout: 'single-site' as const, regions: ['eu-west-1'] };
    const kc = environmentInput('kc', { ...single, sites: [{ ...siteA, name: 'prod-aa' }] });
    const kcProd = environmentInput('kc-prod', { ...single, sites: [{ ...siteA, name: 'aa', vpcId: 'vpc-0c0c0c0c0c0c00001' }] });
    expect(() => synthesizeEnvironments([kc, kcProd], outdir)).toThrow(/makes stack kc-prod-aa-access, which environment kc/);
    expect(existsSync(outdir)).toBe(false);
  });

  test('GIVEN an environment at every length limit validation allows THEN it synthesises', () => {
    const outdir = join(workspace, 'out');
    // The identifier EventBridge's 64-character rule names allow; a domain that makes the writer name 253 characters.
    const globalClusterIdentifier = `k${'x'.repeat(50)}`;
    const domain = [61, 61, 63].map((length, index) => 'abc'[index].repeat(length)).join('.');
    const env = environmentInput('e'.repeat(32), {
      layout: 'single-site',
      regions: ['us-east-1'],
      globalClusterIdentifier,
      sites: [{ ...siteA, region: 'us-east-1', name: `s${'i'.repeat(19)}` }],
      writerDns: { domain },
      stateBackend: { type: 'cloud', organization: 'acme', workspacePrefix: 'w'.repeat(90 - 32 - 1 - 20 - 7) },
    });
    expect(`${globalClusterIdentifier}.aurora-global.${domain}`).toHaveLength(253);
    synthesizeEnvironments([env], outdir);
    expect(existsSync(join(outdir, 'stacks', `${'e'.repeat(32)}-database`, 'cdk.tf.json'))).toBe(true);
  });

  test('GIVEN one invalid environment among valid ones THEN it throws and writes nothing', () => {
    const outdir = join(workspace, 'out');
    const broken: EnvironmentInput = { ...environments[1], regions: ['eu-west-1', 'eu-west-1'] };
    expect(() => synthesizeEnvironments([environments[0], broken], outdir)).toThrow(EnvironmentValidationError);
    expect(() => synthesizeEnvironments([environments[0], broken], outdir)).toThrow(/regions\[1\]: eu-west-1 is listed twice/);
    expect(existsSync(outdir)).toBe(false);
  });
});
