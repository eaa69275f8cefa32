/** Exit codes of the operations CLI; the README lists them. */
export const ExitCode = {
  ok: 0,
  /** A check failed or an operation was refused; nothing was changed. */
  refused: 1,
  /** Unknown command, option or environment. */
  usage: 2,
  /** No usable AWS credentials. */
  credentials: 3,
  /** The operation was started but did not finish within --timeout. */
  timeout: 4,
  /** AWS answered with an error the CLI does not handle. */
  aws: 5,
  /**
   * A blue/green step stopped part-way: a database failed or could not be reached, or a check made
   * after a change failed. The message says what state blue and green are in now; re-running the
   * step once the cause is fixed completes it.
   */
  stopped: 6,
} as const;

/** An error the CLI reports as one clean message with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const refuse = (message: string) => new CliError(message, ExitCode.refused);
