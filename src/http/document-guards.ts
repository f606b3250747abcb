// Checks on a document that graphql-armor does not make, each found as a 500
// by probing the server.
import {
  type ASTVisitor,
  BREAK,
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  Lexer,
  type OperationTypeNode,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValidationContext,
  visit,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { MAX_TOKENS } from './limits.js';

/**
 * Brackets (`{`, `[`, `(`) nested deeper than this are refused before the
 * document is parsed: graphql-js parses (and later validates and executes)
 * nesting recursively, and ~2,400 nested lists — under the token limit —
 * overflowed its stack. Real documents stay far below: selections are at most
 * 12 deep (the standard introspection query nests 10), values at most 10.
 */
export const MAX_SOURCE_NESTING = 32;

/**
 * Lists and input objects nested deeper than this are refused: the deepest
 * value this schema takes is 2 (a list inside an input object).
 */
export const MAX_VALUE_NESTING = 10;

const nestingError = (message: string) =>
  createGraphQLError(message, { extensions: { http: { status: 400 }, code: 'NESTING_LIMIT' } });

/**
 * The deepest bracket nesting of a GraphQL source, stopping as soon as it
 * passes `max`. Tokens come from graphql-js's own lexer (iterative), so
 * strings, block strings, escapes and comments are read exactly as the
 * parser will read them; only the first MAX_TOKENS count, as the parser
 * refuses a longer document before nesting deeper.
 */
export function sourceNesting(body: string, max = MAX_SOURCE_NESTING): number {
  const lexer = new Lexer(new Source(body));
  let depth = 0;
  let deepest = 0;
  try {
    for (let n = 0, t = lexer.advance(); t.kind !== TokenKind.EOF && n <= MAX_TOKENS; n++, t = lexer.advance()) {
      if (t.kind === TokenKind.BRACE_L || t.kind === TokenKind.BRACKET_L || t.kind === TokenKind.PAREN_L) {
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > max) return deepest;
        }
      } else if (t.kind === TokenKind.BRACE_R || t.kind === TokenKind.BRACKET_R || t.kind === TokenKind.PAREN_R) {
        depth = Math.max(0, depth - 1);
      }
    }
  } catch {
    // A lexical error: the parser reports it, with its position.
  }
  return deepest;
}

/** A JavaScript engine limit (the stack) reached on a client's document: the document's fault. */
const isEngineLimit = (e: unknown) => e instanceof RangeError;

/** The deepest list/object nesting of any value in `document`, stopping past `max` (no recursion). */
export function valueNesting(document: DocumentNode, max = MAX_VALUE_NESTING): number {
  let depth = 0;
  let deepest = 0;
  const enter = () => {
    deepest = Math.max(deepest, ++depth);
    return deepest > max ? BREAK : undefined;
  };
  const leave = () => {
    depth--;
  };
  visit(document, { [Kind.LIST]: { enter, leave }, [Kind.OBJECT]: { enter, leave } });
  return deepest;
}

function checkedParse(parse: (source: string | Source, options?: object) => DocumentNode) {
  return (source: string | Source, options?: object): DocumentNode => {
    const body = typeof source === 'string' ? source : source.body;
    if (sourceNesting(body) > MAX_SOURCE_NESTING) {
      throw nestingError(`The document nests brackets more than ${MAX_SOURCE_NESTING} deep.`);
    }
    let document: DocumentNode;
    try {
      document = parse(source, options);
    } catch (e) {
      // Defence in depth: whatever nesting slipped past the count above.
      if (isEngineLimit(e)) throw nestingError('The document is nested too deeply to parse.');
      throw e;
    }
    if (valueNesting(document) > MAX_VALUE_NESTING) {
      throw nestingError(`Argument values may be nested at most ${MAX_VALUE_NESTING} lists or objects deep.`);
    }
    return document;
  };
}

/**
 * An operation type the schema does not have is a validation error (400)
 * naming it, instead of reaching an executor that cannot run it (graphql-jit
 * threw for `subscription { … }` on a schema without subscriptions: a 500).
 */
export function KnownOperationTypesRule(context: ValidationContext): ASTVisitor {
  const schema = context.getSchema();
  const root: Record<OperationTypeNode, unknown> = {
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  };
  return {
    OperationDefinition(node) {
      if (!root[node.operation]) {
        context.reportError(
          createGraphQLError(`This API does not support ${node.operation} operations.`, { nodes: [node] }),
        );
      }
    },
  };
}

/**
 * Fields under `__schema` or `__type` nest at most this deep (through
 * fragments). graphql-armor's depth limit skips introspection and graphql-js's
 * MaxIntrospectionDepthRule stops fields → type → fields cycles but not
 * `ofType` chains, so 1,600 nested `ofType` blocked the event loop for
 * seconds. The standard introspection query (GraphiQL, codegen) nests 15.
 */
export const MAX_INTROSPECTION_DEPTH = 16;

/** The deepest field nesting of a selection set, through fragments (memoised; a cycle counts once). */
function selectionDepth(
  set: SelectionSetNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  memo: Map<string, number>,
): number {
  let deepest = 0;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      deepest = Math.max(deepest, 1 + (s.selectionSet ? selectionDepth(s.selectionSet, fragment, memo) : 0));
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, selectionDepth(s.selectionSet, fragment, memo));
    } else {
      const name = s.name.value;
      if (!memo.has(name)) {
        memo.set(name, 0); // a cycle (refused by NoFragmentCyclesRule) stops here
        const definition = fragment(name);
        memo.set(name, definition ? selectionDepth(definition.selectionSet, fragment, memo) : 0);
      }
      deepest = Math.max(deepest, memo.get(name)!);
    }
  }
  return deepest;
}

export function IntrospectionDepthRule(context: ValidationContext): ASTVisitor {
  const memo = new Map<string, number>();
  return {
    Field(node) {
      if ((node.name.value !== '__schema' && node.name.value !== '__type') || !node.selectionSet) return;
      const depth = 1 + selectionDepth(node.selectionSet, (name) => context.getFragment(name), memo);
      if (depth > MAX_INTROSPECTION_DEPTH) {
        context.reportError(
          createGraphQLError(
            `Introspection may nest at most ${MAX_INTROSPECTION_DEPTH} fields deep (found ${depth}).`,
            { nodes: [node] },
          ),
        );
      }
      return false; // its subtree is measured
    },
  };
}

export function useDocumentGuards(): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      // Only documents actually parsed are checked: yoga's parse cache hands
      // back checked documents (and remembers refused ones) by their text.
      setParseFn(checkedParse(parseFn));
    },
    onValidate({ addValidationRule, validateFn, setValidationFn }) {
      addValidationRule(KnownOperationTypesRule);
      addValidationRule(IntrospectionDepthRule);
      setValidationFn((...args) => {
        try {
          return validateFn(...args);
        } catch (e) {
          if (!isEngineLimit(e)) throw e;
          return [nestingError('The document is too deeply nested to validate.')];
        }
      });
    },
  };
}
