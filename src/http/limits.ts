// Hostile-input limits, applied before anything executes. Document-level
// limits come from graphql-armor (a maintained set of validation rules); the
// body size is checked by useBodyLimit (body-limit.ts), bracket and value
// nesting by useDocumentGuards (document-guards.ts).
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const MAX_BODY_BYTES = 1_000_000;
/** Tokens per document (deleteTasks with 1,000 literal ids is about 1,000). */
export const MAX_TOKENS = 5_000;

/**
 * Armor throws its refusals out of validation by default, which yoga answers
 * as 200 with errors; reported as validation errors they are 400s like any
 * other invalid document. (Its messages start "Syntax Error: ", which they are not.)
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

export function useQueryLimits(): Plugin {
  return EnvelopArmorPlugin({
    // 61 aliased `task` fields must reach the rate limiter (which answers the
    // 61st with RateLimited); past 100 the document itself is refused.
    // `__typename` counts too (armor exempts it by default).
    maxAliases: { n: 100, allowList: [], ...asValidationError },
    // Our deepest real selection is 4 (tasks.edges.node.field). Introspection
    // has its own bound (IntrospectionDepthRule in document-guards.ts).
    maxDepth: { n: 10, ...asValidationError },
    // A parser limit: refused while parsing, already a 400.
    maxTokens: { n: MAX_TOKENS },
    maxDirectives: { n: 50, ...asValidationError },
    costLimit: { maxCost: 20_000, ...asValidationError },
    // Field suggestions stay on: introspection is public anyway.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
}
