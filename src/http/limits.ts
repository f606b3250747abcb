// Hostile-input limits, applied before anything executes. Document-level
// limits come from graphql-armor (a maintained set of validation rules); the
// body size is checked by useBodyLimit (body-limit.ts).
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from 'graphql-yoga';

export const MAX_BODY_BYTES = 1_000_000;

export function useQueryLimits(): Plugin {
  return EnvelopArmorPlugin({
    // 61 aliased `task` fields must reach the rate limiter (which answers the
    // 61st with RateLimited); past 100 the document itself is refused.
    maxAliases: { n: 100 },
    // Our deepest real selection is 4 (tasks.edges.node.field). Introspection
    // is left to graphql-js's MaxIntrospectionDepthRule, which stops its
    // fields → type → fields cycles while admitting the standard query.
    maxDepth: { n: 10 },
    // deleteTasks with 1,000 literal ids is about 1,000 tokens.
    maxTokens: { n: 5_000 },
    maxDirectives: { n: 50 },
    costLimit: { maxCost: 20_000 },
    // Field suggestions stay on: introspection is public anyway.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
}
