/**
 * The package as another team meets it: `npm pack`, installed with npm (preferring the local
 * cache) into a fresh copy of examples/consumer, a CDKTF project with its own two-Region
 * environment and one site. Its synth runs, real Terraform validates every stack and plans it
 * against the mocked provider, and the installed CLI runs. cdktf, constructs and the provider,
 * the package's peers, are linked from this checkout's install (the provider alone is 360 MB), so
 * npm installs the package with --legacy-peer-deps and the peers are put beside it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cliConfig, findProviderMirror, requireTerraform, validateStack } from './terraform-harness';

const root = join(__dirname, '..');
const node = process.execPath;
const npm = join(root, 'node_modules', '.bin', 'npm');

function npmRun(args: string[], cwd: string): string {
  const result = spawnSync(existsSync(npm) ? npm : 'npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

describe('the package installed into another team\'s CDKTF project', () => {
  requireTerraform();
  const workspace = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-package-'));
  const project = join(workspace, 'payments-identity');
  // Built and installed while the suite is collected, as the Terraform suite does: jest 29 starts concurrent tests first.
  const tarball = join(workspace, npmRun(['pack', '--pack-destination', workspace, '--silent'], root).trim().split('\n').at(-1)!);
  cpSync(join(root, 'examples', 'consumer'), project, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  manifest.dependencies = { 'keycloak-aurora-dr': `file:${tarball}` };
  delete manifest.devDependencies;
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  // The package and its own dependencies by npm; the peers are linked in afterwards.
  npmRun(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps'], project);
  for (const name of ['cdktf', 'constructs', '@cdktf/provider-aws']) {
    mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name));
  }
  const installed = join(project, 'node_modules', 'keycloak-aurora-dr');
  const synth = spawnSync(node, ['main.js'], { cwd: project, encoding: 'utf8', env: { ...process.env, CDKTF_OUTDIR: join(project, 'cdktf.out') } });
  const stacks = synth.status === 0 ? readdirSync(join(project, 'cdktf.out', 'stacks')).sort() : [];
  const cliConfigFile = join(workspace, 'terraform.rc');
  writeFileSync(cliConfigFile, cliConfig(findProviderMirror('5.100.0')));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  test('the tarball ships the compiled code, the prebuilt handlers and the CLI bundle, and no sources or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/assets/writer-dns.zip', 'package/dist/assets/dr-orchestrator.zip', 'package/dist/cli/main.js', 'package/dist/stacks/index.js', 'package/dist/modules/index.d.ts', 'package/bin/keycloak-aurora-dr.js', 'package/CHANGELOG.md']));
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('package/test/') || file.startsWith('package/functions/'))).toEqual([]);
    const shipped = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(shipped.peerDependencies).toEqual({ cdktf: '>=0.21.0 <0.22.0', constructs: '^10.4.2', '@cdktf/provider-aws': '>=20.1.0 <21.0.0' });
    expect(shipped).not.toHaveProperty('private');
    // One copy of constructs: the package uses the project's.
    expect(existsSync(join(installed, 'node_modules', 'constructs'))).toBe(false);
  });

  test('its synth builds the team\'s own environment: a database stack and one access stack, with the prebuilt handler zip', () => {
    expect({ status: synth.status, stderr: synth.stderr }).toMatchObject({ status: 0 });
    expect(stacks).toEqual(['payments-database', 'payments-eks-payments-access']);
    const database = JSON.parse(readFileSync(join(project, 'cdktf.out', 'stacks', 'payments-database', 'cdk.tf.json'), 'utf8'));
    const functions = Object.values(database.resource.aws_lambda_function) as Array<{ function_name: string; provider: string }>;
    expect(functions.map((fn) => [fn.function_name, fn.provider]).sort()).toEqual([['payments-identity-writer-dns', 'aws.eu-north-1'], ['payments-identity-writer-dns', 'aws.eu-west-3']]);
    // The zip synth used is the one the package shipped, byte for byte: synth output does not depend on the machine.
    const asset = readdirSync(join(project, 'cdktf.out', 'stacks', 'payments-database', 'assets', 'writer-dns-code')).map((hash) => join(project, 'cdktf.out', 'stacks', 'payments-database', 'assets', 'writer-dns-code', hash));
    const zips = asset.flatMap((folder) => readdirSync(folder).map((file) => readFileSync(join(folder, file))));
    expect(zips).toEqual([readFileSync(join(installed, 'dist', 'assets', 'writer-dns.zip'))]);
    expect(JSON.parse(readFileSync(join(project, 'cdktf.out', 'keycloak-aurora-dr', 'environments.json'), 'utf8'))[0].name).toBe('payments');
  });

  test.concurrent.each(['payments-database', 'payments-eks-payments-access'])('%s passes terraform validate and the mocked plan', async (stack) => {
    const runs = await validateStack(join(project, 'cdktf.out', 'stacks', stack), join(workspace, 'work', stack), cliConfigFile);
    expect(runs[1].output).toContain('Success! The configuration is valid.');
    expect(runs[2].output).toMatch(/Success! \d+ passed, 0 failed\./);
  }, 240_000);

  test('a mistake in the team\'s environment fails synth with the field and the rule, and writes nothing', () => {
    const broken = join(workspace, 'broken');
    cpSync(project, broken, { recursive: true, filter: (path) => !path.includes('cdktf.out') });
    writeFileSync(join(broken, 'environments.js'), readFileSync(join(project, 'environments.js'), 'utf8').replace("regions: ['eu-north-1', 'eu-west-3']", "regions: ['eu-north-1', 'eu-north-1']"));
    const result = spawnSync(node, ['main.js'], { cwd: broken, encoding: 'utf8', env: { ...process.env, CDKTF_OUTDIR: join(broken, 'cdktf.out') } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/regions\[1\]: eu-north-1 is listed twice/);
    expect(existsSync(join(broken, 'cdktf.out', 'stacks'))).toBe(false);
  });

  test('the installed CLI runs with only its runtime dependencies, and operates the environments the project\'s synth wrote', () => {
    const cli = (args: string[]) => spawnSync(node, [join(project, 'node_modules', '.bin', 'keycloak-aurora-dr'), ...args], { cwd: project, encoding: 'utf8', env: { ...process.env, AWS_REGION: 'eu-north-1' } });
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: keycloak-aurora-dr/);
    // This checkout's example environments are not the team's: prod is unknown there, and payments is listed.
    const unknown = cli(['status', 'prod']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown environment "prod"; environments: payments/);
    // A refusal decided before any AWS call: a Region outside the environment.
    const refused = cli(['switchover', 'payments', '--to', 'us-east-1']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/us-east-1/);
    const elsewhere = spawnSync(node, [join(project, 'node_modules', '.bin', 'keycloak-aurora-dr'), 'status', 'payments'], { cwd: workspace, encoding: 'utf8' });
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toMatch(/no environments to operate: name a file with --environments or KEYCLOAK_AURORA_DR_ENVIRONMENTS, or run cdktf synth here first/);
    const named = spawnSync(node, [join(project, 'node_modules', '.bin', 'keycloak-aurora-dr'), '--environments', join(project, 'environments.js'), 'switchover', 'payments', '--to', 'us-east-1'], { cwd: workspace, encoding: 'utf8' });
    expect(named.stderr).toMatch(/us-east-1/);
    expect(named.status).toBe(1);
  });
});
