// How many planned runs a request may compute, and how many runs of history
// it may read, checked before it executes. `nextRuns(count)` and
// `runHistory(first)` sit on Task, which a request can reach through a
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
import {
  MAX_PLANNED_RUNS,
  MAX_PLANNED_RUNS_PER_EVENT,
  MAX_PLANNED_RUNS_PER_REQUEST,
  MAX_RUN_HISTORY_PER_EVENT,
  MAX_RUN_HISTORY_PER_REQUEST,
} from '../services/input-limits.js';
import { DEFAULT_RUNS_PAGE, MAX_RUNS_PAGE } from '../services/runs/history.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../services/tasks/list.js';

/** `nextRuns` without `count` plans this many (the schema's default). */
const DEFAULT_COUNT = 5;

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function argument(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name);
  return arg ? valueFromASTUntyped(arg.value, variables) : undefined;
}

/** What an operation can cost at most over its list items and aliases. */
export interface RequestBound {
  /** Planned runs: each `nextRuns(count)` times the tasks it can be reached through. */
  plannedRuns: number;
  /** History rows: each `runHistory(first)` likewise. */
  historyRows: number;
}

/**
 * The most planned runs and history rows an operation can ask for
 * (`tasks(first)` multiplies what is below it). Throws for a nextRuns count
 * outside 1–MAX_PLANNED_RUNS.
 */
export function requestUpperBound(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): RequestBound {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) {
      operation ??= d;
    }
  }
  // A variable the request leaves out takes its default from the document.
  const given = variables;
  variables = { ...given };
  for (const v of operation?.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    if (given[name] === undefined && v.defaultValue) variables[name] = valueFromASTUntyped(v.defaultValue);
  }
  const bound: RequestBound = { plannedRuns: 0, historyRows: 0 };
  const pageSize = (field: FieldNode, fallback: number, max: number) => {
    const first = argument(field, 'first', variables);
    return typeof first === 'number' ? Math.min(Math.max(first, 0), max) : fallback;
  };
  const walk = (set: SelectionSetNode | undefined, multiplier: number): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, multiplier);
      else if (s.kind === Kind.FRAGMENT_SPREAD) walk(fragments.get(s.name.value)?.selectionSet, multiplier);
      else if (s.name.value === 'nextRuns') {
        const count = argument(s, 'count', variables) ?? DEFAULT_COUNT;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_PLANNED_RUNS) {
          throw refuse(`nextRuns: count must be between 1 and ${MAX_PLANNED_RUNS}.`);
        }
        bound.plannedRuns += count * multiplier;
      } else if (s.name.value === 'runHistory') {
        bound.historyRows += pageSize(s, DEFAULT_RUNS_PAGE, MAX_RUNS_PAGE) * multiplier;
      } else if (s.name.value === 'tasks') {
        walk(s.selectionSet, multiplier * pageSize(s, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
      } else {
        walk(s.selectionSet, multiplier);
      }
    }
  };
  if (operation) walk(operation.selectionSet, 1);
  return bound;
}

/** The planned runs part of requestUpperBound. */
export function plannedRunsUpperBound(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  return requestUpperBound(document, operationName, variables).plannedRuns;
}

/** Whether a document names a nextRuns or runHistory field at all; depends on the document alone. */
const mentionsNextRuns = new WeakMap<DocumentNode, boolean>();

function namesNextRuns(document: DocumentNode): boolean {
  let known = mentionsNextRuns.get(document);
  if (known === undefined) {
    known = false;
    visit(document, {
      Field(node) {
        if (node.name.value !== 'nextRuns' && node.name.value !== 'runHistory') return;
        known = true;
        return BREAK;
      },
    });
    mentionsNextRuns.set(document, known);
  }
  return known;
}

interface Budget {
  plannedRuns: number;
  historyRows: number;
  /** What the request is, in the refusal's words. */
  what: string;
}

const REQUEST: Budget = {
  plannedRuns: MAX_PLANNED_RUNS_PER_REQUEST,
  historyRows: MAX_RUN_HISTORY_PER_REQUEST,
  what: 'per request',
};
const EVENT: Budget = {
  plannedRuns: MAX_PLANNED_RUNS_PER_EVENT,
  historyRows: MAX_RUN_HISTORY_PER_EVENT,
  what: 'per event of a subscription (its selection runs for every event)',
};

/** The budget's refusal for a request over it, or null. */
function overBudget(
  args: { document: DocumentNode; operationName?: string | null; variableValues?: unknown },
  budget: Budget,
): GraphQLError | null {
  // Parsed documents are cached by yoga, so almost every request stops here.
  if (!namesNextRuns(args.document)) return null;
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  try {
    const bound = requestUpperBound(args.document, args.operationName, variables);
    if (bound.plannedRuns > budget.plannedRuns) {
      throw refuse(
        `This request could plan ${bound.plannedRuns} runs; at most ${budget.plannedRuns} ${budget.what} ` +
          '(each nextRuns count times the tasks it is asked for). Ask for fewer.',
      );
    }
    if (bound.historyRows > budget.historyRows) {
      throw refuse(
        `This request could read ${bound.historyRows} runs of history; at most ${budget.historyRows} ${budget.what} ` +
          '(each runHistory first times the tasks it is asked for). Ask for fewer.',
      );
    }
    return null;
  } catch (e) {
    if (!(e instanceof GraphQLError)) throw e;
    return e;
  }
}

export function usePlannedRunsBudget(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = overBudget(args, REQUEST);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    // A subscription's selection is executed for every event: bounded the same way.
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = overBudget(args, EVENT);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
}
