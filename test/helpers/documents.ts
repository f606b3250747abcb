// Operations shared by the suites. Each selects every member of its union.
import { graphql } from './harness.js';

const errorFragments = {
  RateLimited: '... on RateLimited { retryAfterSeconds limit windowSeconds scope }',
  PaymentRequired: '... on PaymentRequired { reason }',
  QuotaExceeded: '... on QuotaExceeded { limit used requested }',
  InvalidStatus: '... on InvalidStatus { currentStatus inProgress }',
  ValidationError: '... on ValidationError { field }',
};

/** `__typename`, the Error interface, and the details of the named error types. */
const errors = (...types: (keyof typeof errorFragments)[]) =>
  `__typename ... on Error { code message } ${types.map((t) => errorFragments[t]).join(' ')}`;
const ACCESS = ['PaymentRequired', 'RateLimited'] as const;
const WRITE = [...ACCESS, 'QuotaExceeded'] as const;

export const TaskFields =
  'id name api query frequency crontab timezone enabled status inProgress createdAt lastRunAt runs nextRunAt';

export const TaskDoc = graphql(
  `query Task($id: ID!) { task(id: $id) { ${errors(...ACCESS)} ... on Task { ${TaskFields} } } }`,
);

export const TasksDoc = graphql(`query Tasks($first: Int, $after: String, $filter: TaskFilter) {
  tasks(first: $first, after: $after, filter: $filter) {
    ${errors(...ACCESS, 'ValidationError')}
    ... on TaskConnection {
      totalCount
      edges { cursor node { id name status api enabled createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`);

export const ViewerDoc = graphql(`query Viewer { viewer { ${errors('RateLimited')}
  ... on Account { id name plan billing quota { limit used remaining resetAt } rateLimit { limit remaining windowSeconds resetAt nextAdmissionAt } } } }`);

export const CreateTaskDoc = graphql(`mutation CreateTask($input: CreateTaskInput!) {
  createTask(input: $input) { ${errors(...WRITE, 'ValidationError')} ... on CreateTaskSuccess { task { ${TaskFields} } } }
}`);

export const DeleteTaskDoc = graphql(`mutation DeleteTask($id: ID!) {
  deleteTask(id: $id) { ${errors(...WRITE, 'InvalidStatus')} ... on DeleteTaskSuccess { deletedId } }
}`);

export const CancelDoc = graphql(`mutation Cancel($id: ID!) {
  cancelSchedule(id: $id) { ${errors(...WRITE, 'InvalidStatus')} ... on CancelScheduleSuccess { scheduleId oldStatus newStatus task { id status enabled } } }
}`);

export const DeleteTasksDoc = graphql(`mutation DeleteTasks($ids: [ID!]!, $atomic: Boolean) {
  deleteTasks(ids: $ids, atomic: $atomic) {
    ${errors(...WRITE, 'ValidationError')}
    ... on DeleteTasksSuccess {
      deletedIds
      results { id outcome { __typename ... on TaskDeleted { deletedId } ... on Error { code message } ... on InvalidStatus { currentStatus inProgress } } }
    }
  }
}`);
