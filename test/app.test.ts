import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentInput, EnvironmentValidationError, environments } from '../environments';
import { synthesizeEnvironments } from '../stacks';

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
      'prod-site-a-access': ['prod-database'],
      'prod-site-b-access': ['prod-database'],
    });
  });

  test('GIVEN one invalid environment among valid ones THEN it throws and writes nothing', () => {
    const outdir = join(workspace, 'out');
    const broken: EnvironmentInput = { ...environments[1], regions: ['eu-west-1', 'eu-west-1'] };
    expect(() => synthesizeEnvironments([environments[0], broken], outdir)).toThrow(EnvironmentValidationError);
    expect(() => synthesizeEnvironments([environments[0], broken], outdir)).toThrow(/regions\[1\]: eu-west-1 is listed twice/);
    expect(existsSync(outdir)).toBe(false);
  });
});
