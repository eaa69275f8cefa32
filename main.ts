import { environments } from './environments';
import { synthesizeOrReport } from './stacks';

synthesizeOrReport(environments);
