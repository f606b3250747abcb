import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) side by side. Node loads the
    // CJS one for our dependencies (Pothos, yoga); Vite would pick the ESM one
    // for test files, and the two copies reject each other's types.
    alias: { graphql: createRequire(import.meta.url).resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file has its own database; files run in parallel workers.
    pool: 'forks',
  },
});
