/**
 * What AWS services and Terraform reserve or refuse in names the environments give, so that it is
 * refused at validation instead of minutes into an apply.
 */
import { dnsNameProblem } from './names';

/**
 * PostgreSQL's reserved key words (reserved, and reserved but allowed as function or type names),
 * and what PostgreSQL and RDS reserve for roles. RDS refuses them as master user names.
 * @see https://www.postgresql.org/docs/current/sql-keywords-appendix.html
 */
const RESERVED_USER_NAMES = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'binary', 'both', 'case', 'cast',
  'check', 'collate', 'collation', 'column', 'concurrently', 'constraint', 'create', 'cross', 'current_catalog', 'current_date',
  'current_role', 'current_schema', 'current_time', 'current_timestamp', 'current_user', 'default', 'deferrable', 'desc',
  'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'freeze', 'from', 'full', 'grant', 'group',
  'having', 'ilike', 'in', 'initially', 'inner', 'intersect', 'into', 'is', 'isnull', 'join', 'lateral', 'leading', 'left',
  'like', 'limit', 'localtime', 'localtimestamp', 'natural', 'not', 'notnull', 'null', 'offset', 'on', 'only', 'or', 'order',
  'outer', 'overlaps', 'placing', 'primary', 'references', 'returning', 'right', 'select', 'session_user', 'similar', 'some',
  'symmetric', 'system_user', 'table', 'tablesample', 'then', 'to', 'trailing', 'true', 'union', 'unique', 'user', 'using',
  'variadic', 'verbose', 'when', 'where', 'window', 'with',
  // Role names PostgreSQL reserves, and the ones RDS keeps for itself.
  'public', 'none', 'admin', 'rdsadmin', 'rdsrepladmin', 'rdstopmgr', 'rdsproxyadmin',
]);

/** Why RDS would refuse `value` as the name of the cluster's initial database, or undefined. */
export function databaseNameProblem(value: string): string | undefined {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(value)) return 'must be 1 to 63 lowercase letters, digits or underscores, starting with a letter';
  if (['template0', 'template1', 'rdsadmin', 'postgres'].includes(value)) return `${value} is a database the server already has; choose another name, such as keycloak`;
  if (RESERVED_USER_NAMES.has(value) && !['admin', 'public', 'none', 'rdsadmin', 'rdsrepladmin', 'rdstopmgr', 'rdsproxyadmin'].includes(value)) {
    return `${value} is an SQL key word PostgreSQL reserves; choose another name, such as keycloak`;
  }
  return undefined;
}

/** Why RDS would refuse `value` as the master user name of an Aurora PostgreSQL cluster, or undefined. */
export function masterUsernameProblem(value: string): string | undefined {
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(value)) return 'must be 1 to 16 lowercase letters, digits or underscores, starting with a letter';
  if (RESERVED_USER_NAMES.has(value)) return `${value} is reserved by PostgreSQL or RDS; choose another name, such as keycloak`;
  if (/^(pg|rds)_/.test(value)) return `${value} starts with ${value.slice(0, value.indexOf('_') + 1)}, which PostgreSQL and RDS reserve for their own roles`;
  return undefined;
}

/**
 * Why AWS would refuse a tag (every resource carries the environment's tags, so one bad tag fails
 * every resource), or undefined.
 * @see https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
 */
export function tagProblem(key: string, value: string): string | undefined {
  if (key.length === 0) return 'tag key must not be empty';
  if (/^aws:/i.test(key)) return `tag key ${key} uses the aws: prefix, which AWS reserves for its own tags`;
  if (key.length < 1 || key.length > 128) return `tag key ${key} must be 1 to 128 characters, is ${key.length}`;
  if (value.length > 256) return `tag ${key}'s value must be at most 256 characters, is ${value.length}`;
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  if (!allowed.test(key)) return `tag key ${key} may contain only letters, digits, spaces and _ . : / = + - @`;
  if (!allowed.test(value)) return `tag ${key}'s value may contain only letters, digits, spaces and _ . : / = + - @`;
  return undefined;
}

/** Why `value` is not a host name such as app.terraform.io (terraform init refuses URLs), or undefined. */
export function hostnameProblem(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `must be a host name such as app.terraform.io, without ${value.slice(0, value.indexOf('//') + 2)}`;
  if (value.includes('/')) return 'must be a host name such as app.terraform.io, without a path';
  const problem = dnsNameProblem(value);
  return problem && `must be a host name such as app.terraform.io: it ${problem.replace(/^must be /, 'is not ')}`;
}
