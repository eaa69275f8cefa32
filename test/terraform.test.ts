import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliConfig, findProviderMirror, requireTerraform, validateStack } from './terraform-harness';

const root = join(__dirname, '..');
const AWS_PROVIDER_VERSION = '5.100.0';

/** Synthesises every example environment with the app command of cdktf.json, as `cdktf synth` does. */
function synthesizeExamples(outdir: string): string[] {
  const { app } = JSON.parse(readFileSync(join(root, 'cdktf.json'), 'utf8'));
  const result = spawnSync('sh', ['-c', app], { cwd: root, env: { ...process.env, CDKTF_OUTDIR: outdir }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the app failed (${result.status}):\n${result.stdout}${result.stderr}`);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
  return Object.keys(manifest.stacks);
}

describe('synthesised stacks under real Terraform and the AWS provider schema', () => {
  // Prepared while the suite is collected: jest 29 starts concurrent tests before beforeAll hooks run.
  requireTerraform();
  const workspace = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-tf-'));
  const outdir = join(workspace, 'cdktf.out');
  const stacks = synthesizeExamples(outdir);
  const cliConfigFile = join(workspace, 'terraform.rc');
  const mirror = findProviderMirror(AWS_PROVIDER_VERSION);
  if (!mirror) {
    console.warn(`No local mirror of hashicorp/aws ${AWS_PROVIDER_VERSION}: terraform init will download it from the registry.`);
  }
  writeFileSync(cliConfigFile, cliConfig(mirror));

  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  test('every example environment synthesised its database stack and one access stack per site', () => {
    expect([...stacks].sort()).toEqual([
      'dev-database',
      'dev-rosa-dev-access',
      'prod-database',
      'prod-dr',
      'prod-site-a-access',
      'prod-site-b-access',
      'staging-database',
      'staging-green',
      'staging-site-a-access',
      'staging-site-b-access',
    ]);
  });

  test.concurrent.each(stacks)(
    '%s passes init -backend=false, validate, and a mock-provider plan (with its refusals)',
    async (stack) => {
      const runs = await validateStack(join(outdir, 'stacks', stack), join(workspace, 'work', stack), cliConfigFile);
      const [, validate, test] = runs;
      expect(validate.output).toContain('Success! The configuration is valid.');
      expect(test.output).toMatch(/run "plan"\.\.\. pass/);
      if (stack.endsWith('-database')) {
        expect(test.output).toMatch(/run "refuses_a_short_master_password"\.\.\. pass/);
        expect(test.output).toMatch(/run "refuses_a_region_with_too_few_zones"\.\.\. pass/);
      }
      expect(test.output).toMatch(/Success! \d+ passed, 0 failed\./);
    },
    300_000,
  );
});
