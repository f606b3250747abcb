/** The document GraphiQL opens with: one request exercising reads and the error unions. */
export const EXAMPLE_QUERY = `# Send the API key as the X-Access-Key header (see Headers below).
# Every failure is a typed union member: switch on __typename.

query Overview {
  viewer {
    __typename
    ... on Account {
      name
      plan
      billing
      quota { limit used remaining resetAt }
      rateLimit { limit remaining resetAt }
    }
    ... on Error { code message }
  }
  tasks(first: 5) {
    __typename
    ... on TaskConnection {
      totalCount
      edges { node { id name api status inProgress nextRunAt } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { code message }
  }
  task(id: "5650820808835072") {
    __typename
    ... on Task { id name status crontab timezone }
    ... on NotFound { message }
    ... on RateLimited { retryAfterSeconds }
    ... on Error { code message }
  }
}

mutation Cancel {
  cancelSchedule(id: "5650820808835072") {
    __typename
    ... on CancelScheduleSuccess { oldStatus newStatus task { id status enabled } }
    ... on InvalidStatus { currentStatus inProgress message }
    ... on RateLimited { retryAfterSeconds scope }
    ... on Error { code message }
  }
}
`;
