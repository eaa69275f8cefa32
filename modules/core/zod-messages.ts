import type { z } from 'zod';

/**
 * Plain words where zod's defaults would say "Invalid input: expected string, received undefined":
 * a missing field `is required`, a wrong type says what it must be and what it is.
 */
export const plainErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) return 'is required';
  if (issue.code !== 'invalid_type') return undefined;
  const input = issue.input;
  const received = Array.isArray(input) ? 'an array' : input === null ? 'null' : `a ${typeof input} (${JSON.stringify(input).slice(0, 40)})`;
  return `must be ${issue.expected === 'array' || issue.expected === 'object' ? 'an' : 'a'} ${issue.expected}, not ${received}`;
};

/** An issue's path as a field name: `sites[0].routeTableIds[1]`; `whole` for the document itself. */
export function formatIssuePath(path: readonly PropertyKey[], whole: string): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '') || whole;
}
