/** Entry point of the `keycloak-aurora-dr` command. */
import { awsClients, realClock } from './aws';
import { run } from './program';

run(process.argv.slice(2), {
  aws: awsClients(),
  clock: realClock,
  env: process.env,
  // A test names a failpoint to kill the runner there and prove that a re-run completes.
  reach: (failpoint) => {
    if (process.env.BLUEGREEN_FAILPOINT === failpoint) process.kill(process.pid, 'SIGKILL');
  },
  io: { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) },
})
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: Error) => {
    process.stderr.write(`error: unexpected ${error.name}: ${error.message}\n`);
    process.exitCode = 70;
  });
