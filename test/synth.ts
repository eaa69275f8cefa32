import { App, TerraformStack, Testing } from 'cdktf';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentInput, parseEnvironments } from '../environments';
import { addEnvironmentStacks } from '../stacks';

/** A synthesised stack as Terraform JSON. */
export interface StackJson {
  resource: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  provider?: Record<string, Array<Record<string, any>>>;
  variable?: Record<string, Record<string, any>>;
  output?: Record<string, Record<string, any>>;
  terraform: Record<string, any>;
}

export function synthesize(stack: TerraformStack): StackJson {
  return JSON.parse(Testing.synth(stack));
}

/** Every resource of `type`, with its logical name. */
export function resourcesOf(json: StackJson, type: string): Array<{ name: string; config: Record<string, any> }> {
  return Object.entries(json.resource[type] ?? {}).map(([name, config]) => ({ name, config }));
}

/** The logical name a `${type.name.attribute}` reference points at. */
export function referencedName(expression: string, type: string): string {
  const match = new RegExp(`^\\$\\{${type}\\.([^.]+)\\.`).exec(expression);
  if (!match) throw new Error(`${expression} is not a reference to a ${type}`);
  return match[1];
}

/** Every stack of `environments`, synthesised as one app (so cross-stack references are wired), by stack name. */
export function synthesizeApp(environments: readonly EnvironmentInput[]): Record<string, StackJson> {
  const outdir = mkdtempSync(join(tmpdir(), 'keycloak-aurora-dr-synth-'));
  try {
    const app = new App({ outdir });
    addEnvironmentStacks(app, parseEnvironments(environments));
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    return Object.fromEntries(
      Object.entries<{ synthesizedStackPath: string }>(manifest.stacks).map(([name, stack]) => [
        name,
        JSON.parse(readFileSync(join(outdir, stack.synthesizedStackPath), 'utf8')),
      ]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
