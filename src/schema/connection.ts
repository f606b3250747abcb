// A service's page as a Relay connection (edges with cursors, pageInfo).
export interface Page<T> {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf(item: T): string;
}

export function connectionOf<T>(items: readonly T[], page: Page<T>) {
  const edges = items.map((node) => ({ cursor: page.cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
