/**
 * Ends the run with a plain `Tests: N passed, N failed, N skipped` line, which CI reads as the count.
 * Printed at process exit so it comes after jest's own summary.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.once('exit', () => {
      process.stderr.write(`Tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
    });
  }
}

module.exports = SummaryReporter;
