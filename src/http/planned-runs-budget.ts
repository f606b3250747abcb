// How many planned runs a request may compute, checked before it executes.
// `nextRuns(count)` sits on Task, which a request can reach through a
// `tasks(first)` list and aliases: one document could otherwise ask for
// 100 × 100 × 99 runs. The whole request is refused up front, so no answer is
// ever cut short half-way through a list (an error in a non-null field would
// null the root field, depending on which item ran first).
import {
  BREAK,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromASTUntyped,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PLANNED_RUNS, MAX_PLANNED_RUNS_PER_REQUEST } from '../services/input-limits.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../services/tasks/list.js';

/** `nextRuns` without `count` plans this many (the schema's default). */
const DEFAULT_COUNT = 5;

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function argument(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name);
  return arg ? valueFromASTUntyped(arg.value, variables) : undefined;
}

/**
 * The most planned runs an operation can compute: each `nextRuns(count)` times
 * the tasks it can be reached through (`tasks(first)` multiplies). Throws for
 * a count outside 1–MAX_PLANNED_RUNS.
 */
export function plannedRunsUpperBound(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) {
      operation ??= d;
    }
  }
  const walk = (set: SelectionSetNode | undefined, multiplier: number): number => {
    let total = 0;
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.INLINE_FRAGMENT) total += walk(s.selectionSet, multiplier);
      else if (s.kind === Kind.FRAGMENT_SPREAD) total += walk(fragments.get(s.name.value)?.selectionSet, multiplier);
      else if (s.name.value === 'nextRuns') {
        const count = argument(s, 'count', variables) ?? DEFAULT_COUNT;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_PLANNED_RUNS) {
          throw refuse(`nextRuns: count must be between 1 and ${MAX_PLANNED_RUNS}.`);
        }
        total += count * multiplier;
      } else if (s.name.value === 'tasks') {
        const first = argument(s, 'first', variables);
        const size = typeof first === 'number' ? Math.min(Math.max(first, 0), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
        total += walk(s.selectionSet, multiplier * size);
      } else {
        total += walk(s.selectionSet, multiplier);
      }
    }
    return total;
  };
  return operation ? walk(operation.selectionSet, 1) : 0;
}

/** Whether a document names a nextRuns field at all; depends on the document alone. */
const mentionsNextRuns = new WeakMap<DocumentNode, boolean>();

function namesNextRuns(document: DocumentNode): boolean {
  let known = mentionsNextRuns.get(document);
  if (known === undefined) {
    known = false;
    visit(document, {
      Field(node) {
        if (node.name.value !== 'nextRuns') return;
        known = true;
        return BREAK;
      },
    });
    mentionsNextRuns.set(document, known);
  }
  return known;
}

export function usePlannedRunsBudget(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      // Parsed documents are cached by yoga, so almost every request stops here.
      if (!namesNextRuns(args.document)) return;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      try {
        const bound = plannedRunsUpperBound(args.document, args.operationName, variables);
        if (bound > MAX_PLANNED_RUNS_PER_REQUEST) {
          throw refuse(
            `This request could plan ${bound} runs; at most ${MAX_PLANNED_RUNS_PER_REQUEST} per request ` +
              '(each nextRuns count times the tasks it is asked for). Ask for fewer.',
          );
        }
      } catch (e) {
        if (!(e instanceof GraphQLError)) throw e;
        setResultAndStopExecution({ errors: [e] });
      }
    },
  };
}
