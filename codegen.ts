// graphql-codegen: from the checked-in schema.graphql and the operations this
// project ships (src/operations) plus the test suite's own documents, generate
//  - typed documents (client preset) that the tests use, so every test
//    operation is checked against the schema;
//  - possibleTypes for Apollo Client's InMemoryCache and the introspection
//    urql's Graphcache needs: unions and the Error interface cannot be
//    normalised or matched by fragments in a client cache without them.
// Output goes to src/generated/client (regenerated, never committed).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/operations/**/*.graphql', 'test/**/*.ts'],
  ignoreNoDocuments: false,
  // ESM imports with .js extensions, as Node's module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'src/generated/client/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        // Non-optional __typename on every object, so result unions narrow.
        nonOptionalTypename: true,
      },
    },
    'src/generated/client/possible-types.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
    'src/generated/client/introspection.ts': {
      plugins: ['urql-introspection'],
      config: { module: 'es2015', useTypeImports: true },
    },
  },
};

export default config;
