/**
 * Runs synthesised stacks through real Terraform: `init -backend=false`, `validate` against the AWS
 * provider schema, and `terraform test` plans against `mock_provider "aws"`, with no AWS account.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StackJson } from './synth';

/** Terraform 1.11 is the first with write-only attributes; ephemeral variables need 1.10. */
const MINIMUM_TERRAFORM = [1, 11];

/** Placeholder values for the variables a stack requires; none is a real secret. */
const MOCK_VARIABLES: Record<string, string> = {
  master_password: 'mock-only-Passw0rd',
};

/** Availability zones every mocked Region reports: more than any network asks for. */
const MOCK_ZONE_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** The Terraform on PATH, or an error that says plainly why the validation cannot run. */
export function requireTerraform(): string {
  const result = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      'TERRAFORM IS MISSING: `terraform` is not on PATH, so the synthesised stacks cannot be validated ' +
        `against the AWS provider schema. Install Terraform >= ${MINIMUM_TERRAFORM.join('.')} and run the tests again.`,
    );
  }
  const version: string = JSON.parse(result.stdout).terraform_version;
  const [major, minor] = version.split('.').map(Number);
  if (major < MINIMUM_TERRAFORM[0] || (major === MINIMUM_TERRAFORM[0] && minor < MINIMUM_TERRAFORM[1])) {
    throw new Error(`Terraform ${version} is too old: the stacks use write-only attributes, which need ${MINIMUM_TERRAFORM.join('.')}`);
  }
  return version;
}

/** A folder holding `registry.terraform.io/hashicorp/aws/<version>`, or undefined when there is none. */
export function findProviderMirror(awsVersion: string): string | undefined {
  const candidates = [
    process.env.TF_PROVIDER_MIRROR,
    '/opt/tf-plugins',
    join(homedir(), '.terraform.d', 'plugins'),
    '/usr/local/share/terraform/plugins',
    '/usr/share/terraform/plugins',
  ].filter((path): path is string => Boolean(path));
  return candidates.find((path) => existsSync(join(path, 'registry.terraform.io', 'hashicorp', 'aws', awsVersion)));
}

/** A Terraform CLI configuration that takes hashicorp providers from the mirror only. */
export function cliConfig(mirror: string | undefined): string {
  if (!mirror) return '';
  return `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirror)}
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
`;
}

/**
 * A `terraform test` file for a stack: every aliased AWS provider mocked, its availability zones
 * given, a plan that must succeed, refusals that must happen, and assertions Terraform evaluates.
 */
export function mockTestFile(stack: StackJson): string {
  const providers = stack.provider?.aws ?? [];
  const blocks: string[] = providers.map(
    ({ alias, region }) => `mock_provider "aws" {
  alias = ${JSON.stringify(alias)}
  mock_data "aws_availability_zones" {
    defaults = { names = ${JSON.stringify(MOCK_ZONE_LETTERS.map((letter) => `${region}${letter}`))} }
  }
}`,
  );

  const required = Object.entries(stack.variable ?? {}).filter(([, variable]) => !('default' in variable));
  const unknown = required.filter(([name]) => !(name in MOCK_VARIABLES)).map(([name]) => name);
  if (unknown.length > 0) throw new Error(`no mock value for the required variables ${unknown.join(', ')}`);
  if (required.length > 0) {
    blocks.push(`variables {\n${required.map(([name]) => `  ${name} = ${JSON.stringify(MOCK_VARIABLES[name])}`).join('\n')}\n}`);
  }

  // Outputs of other stacks, read through terraform_remote_state, are given as placeholders.
  const text = JSON.stringify(stack);
  for (const remote of Object.keys(stack.data?.terraform_remote_state ?? {})) {
    const outputs = [...new Set([...text.matchAll(new RegExp(`data\\.terraform_remote_state\\.${remote}\\.outputs\\.([A-Za-z0-9_-]+)`, 'g'))].map((match) => match[1]))];
    blocks.push(`override_data {
  target = data.terraform_remote_state.${remote}
  values = {
    outputs = {
${outputs.map((output) => `      ${JSON.stringify(output)} = ${JSON.stringify(mockOutputValue(output))}`).join('\n')}
    }
  }
}`);
  }

  const assertions = [
    ...Object.keys(stack.resource.aws_rds_cluster ?? {}).map((name) =>
      assertion(`aws_rds_cluster.${name}.storage_encrypted`, `cluster ${name} is not encrypted`),
    ),
    ...providers.flatMap(({ alias }) =>
      ['aws_subnet', 'aws_rds_cluster_instance'].flatMap((type) => {
        const names = Object.entries(stack.resource[type] ?? {})
          .filter(([, config]) => config.provider === `aws.${alias}`)
          .map(([name]) => `${type}.${name}.availability_zone`);
        if (names.length < 2) return [];
        return [
          assertion(
            `length(distinct([${names.join(', ')}])) == ${names.length}`,
            `${type} in ${alias} share an availability zone`,
          ),
        ];
      }),
    ),
  ];
  blocks.push(`run "plan" {\n  command = plan\n${assertions.join('\n')}\n}`);

  if (stack.variable?.master_password) {
    blocks.push(`run "refuses_a_short_master_password" {
  command = plan
  variables {
    master_password = "short"
  }
  expect_failures = [var.master_password]
}`);
  }
  const [zones] = Object.keys(stack.data?.aws_availability_zones ?? {});
  if (zones) {
    blocks.push(`run "refuses_a_region_with_too_few_zones" {
  command = plan
  override_data {
    target = data.aws_availability_zones.${zones}
    values = { names = ["zone-a", "zone-b"] }
  }
  expect_failures = [data.aws_availability_zones.${zones}]
}`);
  }
  return `${blocks.join('\n\n')}\n`;
}

/** A placeholder shaped like the output it stands for, so expressions over it evaluate as in a real run. */
function mockOutputValue(output: string): string {
  if (output.endsWith('endpoint')) return 'mock-cluster.cluster-c9akciq32x1p.eu-west-1.rds.amazonaws.com';
  // The provider checks ARNs at plan time, so an ARN placeholder must be well formed.
  if (output.endsWith('arn')) return 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000';
  return `mock-${output.slice(-40)}`;
}

function assertion(condition: string, message: string): string {
  return `  assert {\n    condition     = ${condition}\n    error_message = ${JSON.stringify(message)}\n  }`;
}

export interface TerraformRun {
  readonly args: string[];
  readonly output: string;
}

/** Runs terraform in `dir`; rejects with the whole output when it exits non-zero. */
export function runTerraform(dir: string, args: string[], cliConfigFile: string): Promise<TerraformRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('terraform', [...args, '-no-color'], {
      cwd: dir,
      env: {
        ...process.env,
        TF_CLI_CONFIG_FILE: cliConfigFile,
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        CHECKPOINT_DISABLE: '1',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ args, output });
      else reject(new Error(`terraform ${args.join(' ')} in ${dir} exited ${code}:\n${output}`));
    });
  });
}

/**
 * Checks one synthesised stack folder: copies it (JSON and assets) to `workDir`, writes the mock
 * test, then init (without the backend: remote state needs credentials), validate and test.
 */
export async function validateStack(stackDir: string, workDir: string, cliConfigFile: string): Promise<TerraformRun[]> {
  const stack: StackJson = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
  cpSync(stackDir, workDir, { recursive: true });
  mkdirSync(join(workDir, 'tests'), { recursive: true });
  writeFileSync(join(workDir, 'tests', 'mock.tftest.hcl'), mockTestFile(stack));
  const runs = [await runTerraform(workDir, ['init', '-backend=false'], cliConfigFile)];
  runs.push(await runTerraform(workDir, ['validate'], cliConfigFile));
  runs.push(await runTerraform(workDir, ['test'], cliConfigFile));
  return runs;
}
