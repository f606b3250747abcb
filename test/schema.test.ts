// The checked-in SDL is the API's documentation and codegen's input: it must
// be exactly what the code produces, and describe everything.
import { readFileSync } from 'node:fs';
import {
  type GraphQLUnionType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  isUnionType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { printedSchema, SCHEMA_FILE } from '../src/schema/print.js';

describe('schema.graphql', () => {
  it('is current: `npm run schema` would not change it', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'schema.graphql is stale: run `npm run schema`').toBe(printedSchema());
  });

  it('describes every type, field, argument, input field and enum value', () => {
    const missing: string[] = [];
    const need = (what: string, description: string | null | undefined) => {
      if (!description?.trim()) missing.push(what);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      need(type.name, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) need(`${type.name}.${field.name}`, field.description);
      } else if (isEnumType(type)) {
        for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
      } else if (isUnionType(type)) {
        expect(type.getTypes().length).toBeGreaterThan(1);
      }
    }
    expect(missing).toEqual([]);
  });

  it('lists in each result union exactly the errors its operation can return', () => {
    const members = (name: string) => (schema.getType(name) as GraphQLUnionType).getTypes().map((t) => t.name);
    expect(members('TaskResult').sort()).toEqual([
      'NotFound',
      'PaymentRequired',
      'RateLimited',
      'Task',
      'Unauthorized',
      'ValidationError',
    ]);
    expect(members('DeleteTaskOutcome').sort()).toEqual(['BatchAborted', 'InvalidStatus', 'NotFound', 'TaskDeleted']);
    expect(members('DeleteTasksResult').sort()).toEqual([
      'DeleteTasksAborted',
      'DeleteTasksSuccess',
      'PaymentRequired',
      'QuotaExceeded',
      'RateLimited',
      'Unauthorized',
      'ValidationError',
    ]);
    // viewer is never counted against the rate limit, so it can never be RateLimited.
    expect(members('ViewerResult').sort()).toEqual(['Account', 'Unauthorized']);
  });
});
