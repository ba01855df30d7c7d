import { isInputObjectType, isInterfaceType, isObjectType, type ConstDirectiveNode, type GraphQLSchema } from 'graphql';

/**
 * `@sensitive` in the SDL marks secrets: input fields and arguments whose values must never be
 * echoed (passwords), and output fields that are returned once and never logged (a Temporary
 * Access Pass). The schema is the one list: redaction, the response headers and the tests all
 * read it from here, so a field marked tomorrow is covered tomorrow.
 */
export const SENSITIVE_DIRECTIVE = 'sensitive';

interface Definition {
  astNode?: { readonly directives?: ReadonlyArray<ConstDirectiveNode> } | null;
}

export function isSensitive(definition: Definition | null | undefined): boolean {
  return definition?.astNode?.directives?.some((directive) => directive.name.value === SENSITIVE_DIRECTIVE) ?? false;
}

export interface SensitiveFields {
  /** `ChangePasswordInput.password` */
  inputFields: string[];
  /** `Query.field(argument:)` */
  arguments: string[];
  /** `CreatedTemporaryAccessPass.temporaryAccessPass` */
  outputFields: string[];
  /** Names of the sensitive input fields and arguments (`password`), to recognise them where the type is not known. */
  inputNames: ReadonlySet<string>;
}

const bySchema = new WeakMap<GraphQLSchema, SensitiveFields>();

/** Every `@sensitive` element of the schema, by schema coordinate. */
export function sensitiveFieldsOf(schema: GraphQLSchema): SensitiveFields {
  let found = bySchema.get(schema);
  if (found) return found;
  const inputNames = new Set<string>();
  found = { inputFields: [], arguments: [], outputFields: [], inputNames };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!isSensitive(field)) continue;
        found.inputFields.push(`${type.name}.${field.name}`);
        inputNames.add(field.name);
      }
    } else if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isSensitive(field)) found.outputFields.push(`${type.name}.${field.name}`);
        for (const arg of field.args) {
          if (!isSensitive(arg)) continue;
          found.arguments.push(`${type.name}.${field.name}(${arg.name}:)`);
          inputNames.add(arg.name);
        }
      }
    }
  }
  bySchema.set(schema, found);
  return found;
}
