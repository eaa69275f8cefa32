import { EnvironmentValidationError, environments } from './environments';
import { synthesizeEnvironments } from './stacks';

try {
  synthesizeEnvironments(environments);
} catch (error) {
  if (!(error instanceof EnvironmentValidationError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
