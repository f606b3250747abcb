// The Pothos builder. Plugin order matters: errors wraps fields first, so a
// typed error thrown anywhere below becomes a union member.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import type { Session } from '../services/session.js';

export interface GraphQLContext {
  session: Session;
  /** The HTTP request (over WebSocket, one standing for the operation); its signal aborts when the client leaves. */
  request: Request;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    // Task ids are the public APIs' own opaque ids, not Relay global ids.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false, description: 'The items of this page, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Opaque position of this item; pass it as `after` to continue after it.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    pageInfoTypeOptions: { description: 'Relay pagination state of a connection.' },
    hasNextPageFieldOptions: { description: 'More items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Items precede this page (it was asked for with `after`).' },
    startCursorFieldOptions: { description: 'Cursor of the first item; null on an empty page.' },
    endCursorFieldOptions: {
      description: 'Cursor of the last item (pass as `after` for the next page); null on an empty page.',
    },
  },
  // No default error types: each field lists exactly the errors it can return.
  errors: { defaultTypes: [] },
});

// Root fields are nullable (each sets `nullable: true`): expected failures are
// union members, so null only ever means an unexpected, masked error, and it
// then nulls that one field instead of the whole response.
builder.queryType({ description: 'Reads. Rate limited per account (every root field counts); never consume quota.' });
builder.mutationType({
  description: 'Changes. Rate limited per account; each change that succeeds consumes quota.',
});
