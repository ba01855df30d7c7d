import { isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isSpecifiedScalarType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildGatewaySchema, loadSchemaSource } from '../../src/graphql/schema.js';

/**
 * The schema is the API's documentation (playground docs pane, /schema.graphql): every named type,
 * field, argument, input field, enum value and directive argument written in schema/ carries a description.
 */

function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const blank = (description: string | null | undefined) => description == null || description.trim() === '';
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    if (blank(type.description)) missing.push(`type ${type.name}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (blank(field.description)) missing.push(`field ${type.name}.${field.name}`);
        for (const arg of field.args) {
          if (blank(arg.description)) missing.push(`argument ${type.name}.${field.name}(${arg.name}:)`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (blank(field.description)) missing.push(`input field ${type.name}.${field.name}`);
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (blank(value.description)) missing.push(`enum value ${type.name}.${value.name}`);
      }
    }
  }
  for (const directive of schema.getDirectives()) {
    if (directive.astNode === undefined || directive.astNode === null) continue; // built-in (@skip, @include, ...)
    if (blank(directive.description)) missing.push(`directive @${directive.name}`);
    for (const arg of directive.args) {
      if (blank(arg.description)) missing.push(`argument @${directive.name}(${arg.name}:)`);
    }
  }
  return missing;
}

describe('schema documentation', () => {
  const schema = buildGatewaySchema({ typeDefs: loadSchemaSource() });

  it('documents every type, field, argument, input field, enum value and directive', () => {
    const missing = undocumented(schema);
    expect(missing, `undocumented schema elements:\n  ${missing.join('\n  ')}`).toEqual([]);
  });

  it('checks the whole schema (mutations included), not an empty one', () => {
    expect(schema.getMutationType()?.getFields().terminateSession).toBeDefined();
    expect(Object.keys(schema.getTypeMap()).length).toBeGreaterThan(40);
  });
});
