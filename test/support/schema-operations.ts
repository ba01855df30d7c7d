import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

/**
 * Operations built from the schema itself, so a test that iterates over root fields or input
 * fields covers tomorrow's fields without being edited: every required argument and input field
 * gets a plausible value of its type (field names that Graph checks get real-looking ones).
 */
export interface SampleValues {
  /** Object id used wherever an `ID` is needed. */
  userId: string;
  /** Verified domain of the tenant, for `userPrincipalName`. */
  domain: string;
  /** Values by input field name, taking precedence over the type's sample. */
  byName?: Record<string, unknown>;
}

let counter = 0;

export function sampleValue(type: GraphQLInputType, samples: SampleValues, name?: string): unknown {
  if (name && samples.byName && name in samples.byName) return samples.byName[name];
  if (isNonNullType(type)) return sampleValue(type.ofType, samples, name);
  if (isListType(type)) return [sampleValue(type.ofType, samples, name)];
  if (isInputObjectType(type)) return sampleInput(type, samples);
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isScalarType(type)) {
    counter += 1;
    if (name === 'userPrincipalName') return `sample-${Date.now()}-${counter}@${samples.domain}`;
    if (name === 'mailNickname') return `sample${Date.now()}${counter}`;
    switch (type.name) {
      case 'ID':
        return samples.userId;
      case 'Int':
        return 60;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date().toISOString();
      case 'EmailAddress':
        return `sample${counter}@${samples.domain}`;
      default:
        return `Sample-value-${counter}!`;
    }
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** The required fields of an input object type, each with a sample value. */
export function sampleInput(type: GraphQLInputObjectType, samples: SampleValues): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of Object.values(type.getFields())) {
    if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = sampleValue(field.type, samples, field.name);
  }
  return value;
}

export interface SampleOperation {
  query: string;
  variables: Record<string, unknown>;
}

export interface OperationOptions {
  /** The selection set under the field, braces included (default ` { __typename }`, none for a leaf). */
  selection?: string;
  /** A value of its own for an argument; undefined keeps the sample value. */
  argument?: (arg: GraphQLArgument) => unknown;
}

/** `query|mutation($a0: T!) { field(arg: $a0) { __typename } }` with sample variables for the required arguments. */
export function operationFor(
  schema: GraphQLSchema,
  rootType: GraphQLObjectType,
  field: GraphQLField<unknown, unknown>,
  samples: SampleValues,
  options: OperationOptions = {},
): SampleOperation {
  const keyword = rootType === schema.getMutationType() ? 'mutation' : rootType === schema.getSubscriptionType() ? 'subscription' : 'query';
  const declarations: string[] = [];
  const args: string[] = [];
  const variables: Record<string, unknown> = {};
  for (const [i, arg] of field.args.entries()) {
    if (!isNonNullType(arg.type) || arg.defaultValue !== undefined) continue;
    declarations.push(`$a${i}: ${String(arg.type)}`);
    args.push(`${arg.name}: $a${i}`);
    variables[`a${i}`] = options.argument?.(arg) ?? sampleValue(arg.type, samples, arg.name);
  }
  const selection = options.selection ?? (isLeafType(getNamedType(field.type)) ? '' : ' { __typename }');
  const query = `${keyword}${declarations.length ? `(${declarations.join(', ')})` : ''} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`;
  return { query, variables };
}

/** Every root field of the schema with its root type. */
export function rootFields(schema: GraphQLSchema): Array<{ rootType: GraphQLObjectType; field: GraphQLField<unknown, unknown> }> {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t): t is GraphQLObjectType => !!t);
  return roots.flatMap((rootType) => Object.values(rootType.getFields()).map((field) => ({ rootType, field })));
}
