/** A reason a plan would fail if it were run now, as the readiness evaluation reports it. */
export interface Finding {
  /** The resource the finding is about; absent for the plan as a whole. */
  readonly resource?: string;
  readonly type?: string;
  readonly problem: string;
}

/** One line per finding, for logs and the CLI. */
export function formatFinding(finding: Finding): string {
  return finding.resource ? `${finding.resource} (${finding.type}): ${finding.problem}` : finding.problem;
}
