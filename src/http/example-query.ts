/** The document GraphiQL opens with: one query exercising reads and the error unions. */
export const EXAMPLE_QUERY = `# The API key goes in the X-Access-Key header (see Headers below).
# Every failure is a typed union member: switch on __typename.

query Overview {
  task(id: "5650820808835072") {
    __typename
    ... on Task {
      id name status version crontab description timezone nextRuns(count: 3) { at local shifted }
      runs lastRun { outcome scheduledFor startedAt durationMs error }
    }
    ... on NotFound { message }
    ... on RateLimited { retryAfterSeconds }
    ... on Error { code message }
  }
  viewer {
    __typename
    ... on Account {
      name
      plan
      quota { limit used remaining resetAt }
      rateLimit { limit remaining resetAt }
    }
    ... on Error { code message }
  }
  tasks(first: 5) {
    __typename
    ... on TaskConnection {
      totalCount
      edges { node { id name api status inProgress } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { code message }
  }
}

# Then try a change, e.g.:
# mutation {
#   cancelSchedule(id: "5650820808835072") {
#     __typename
#     ... on CancelScheduleSuccess { oldStatus newStatus task { id status } }
#     ... on InvalidStatus { currentStatus }
#     ... on Error { code message }
#   }
# }
#
# or run it now (SchedulerDisabled unless the server has an EXECUTOR_URL):
# mutation {
#   runTask(id: "5650820808835072") {
#     __typename
#     ... on RunTaskSuccess { run { id outcome } task { inProgress } }
#     ... on Error { code message }
#   }
# }
`;
