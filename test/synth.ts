import { TerraformStack, Testing } from 'cdktf';

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
