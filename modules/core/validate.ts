/** One rule of a construct's props: when `failed` is true, `message` says which prop and why. */
export interface PropRule {
  readonly failed: boolean;
  readonly message: string;
}

/** Throws one error listing every failed rule, so a caller fixes them all in one pass. */
export function assertProps(owner: string, rules: readonly PropRule[]): void {
  const failures = rules.filter((rule) => rule.failed).map((rule) => rule.message);
  if (failures.length > 0) {
    throw new Error(`${owner}: invalid props:\n${failures.map((message) => `  - ${message}`).join('\n')}`);
  }
}
