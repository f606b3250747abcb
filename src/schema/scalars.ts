import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

function parseDate(value: unknown): Date {
  if (typeof value === 'string') {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime()) && /^\d{4}-\d{2}-\d{2}T/.test(value)) return d;
  }
  throw new GraphQLError('DateTime must be an ISO-8601 date-time string, e.g. 2026-01-31T12:00:00Z.');
}

export const DateTime = builder.scalarType('DateTime', {
  description: 'An instant as an ISO-8601 string in UTC, e.g. `2026-01-31T12:00:00.000Z`.',
  serialize: (value) => value.toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string.');
    return parseDate(ast.value);
  },
});
