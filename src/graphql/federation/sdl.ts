import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  GraphQLSchema,
  Kind,
  parse,
  printSchema,
  visit,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type GraphQLDirective,
  type Location,
} from 'graphql';

/**
 * The federation syntax of schema/ (the `@link` to the federation spec on `extend schema` and the
 * directives it imports, such as `@key` on User), found by reading the `@link` itself so a new
 * import in the SDL is covered without a list kept here. Three consumers:
 * - a gateway without FEDERATION=true builds its schema from the SDL with that syntax removed, so
 *   it has no federation surface at all (no `_entities`, `_service`, `@key` or `link__*` types);
 * - codegen learns the directives from the subgraph library's own definitions (codegen.ts);
 * - `/schema.graphql` publishes the SDL without it when federation is off, so a client's tools
 *   that know nothing of federation can build the schema it serves.
 */

const FEDERATION_SPEC = /^https:\/\/specs\.apollo\.dev\/federation\/v\d+\.\d+\/?$/;
const LINK_SPEC = /^https:\/\/specs\.apollo\.dev\/link\/v\d+\.\d+\/?$/;

export interface FederationSyntax {
  /** Names (without `@`) of the directives the federation `@link`s bring in, as this schema spells them. */
  directives: ReadonlySet<string>;
  /** Prefixes (`federation__`) under which the spec's directives not imported by name can be used. */
  prefixes: readonly string[];
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

/** `"@key"` or `{ name: "@key", as: "@primaryKey" }` → the name used in this schema (`key`, `primaryKey`). */
function importedName(value: ConstValueNode): string | undefined {
  if (value.kind === Kind.STRING) return value.value.startsWith('@') ? value.value.slice(1) : undefined;
  if (value.kind !== Kind.OBJECT) return undefined;
  const field = (name: string) => {
    const v = value.fields.find((f) => f.name.value === name)?.value;
    return v?.kind === Kind.STRING ? v.value : undefined;
  };
  const name = field('as') ?? field('name');
  return name?.startsWith('@') ? name.slice(1) : undefined;
}

function isFederationLink(directive: ConstDirectiveNode): boolean {
  const url = directive.name.value === 'link' ? stringArgument(directive, 'url') : undefined;
  return url !== undefined && (FEDERATION_SPEC.test(url) || LINK_SPEC.test(url));
}

/** The federation syntax the document's `@link`s declare (empty when it links nothing). */
export function federationSyntaxOf(document: DocumentNode): FederationSyntax {
  const directives = new Set<string>();
  const prefixes: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_EXTENSION && definition.kind !== Kind.SCHEMA_DEFINITION) continue;
    for (const directive of definition.directives ?? []) {
      if (!isFederationLink(directive)) continue;
      directives.add('link');
      const url = stringArgument(directive, 'url')!;
      if (!FEDERATION_SPEC.test(url)) continue;
      prefixes.push(`${stringArgument(directive, 'as') ?? 'federation'}__`);
      const imports = directive.arguments?.find((a) => a.name.value === 'import')?.value;
      for (const value of imports?.kind === Kind.LIST ? imports.values : []) {
        const name = importedName(value);
        if (name) directives.add(name);
      }
    }
  }
  return { directives, prefixes };
}

function isFederationDirective(syntax: FederationSyntax, name: string): boolean {
  return syntax.directives.has(name) || syntax.prefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * The SDL with its federation syntax cut out character by character (descriptions, comments and
 * layout of everything else stay exactly as written): a schema extension that only links is
 * dropped whole, federation directives applied anywhere else are removed where they stand.
 */
export function withoutFederationSyntax(source: string): string {
  const document = parse(source);
  const syntax = federationSyntaxOf(document);
  if (syntax.directives.size === 0) return source;
  const cuts: Location[] = [];
  visit(document, {
    SchemaExtension(node) {
      const kept = (node.directives ?? []).filter((d) => !isFederationDirective(syntax, d.name.value));
      if (kept.length === 0 && (node.operationTypes ?? []).length === 0 && node.loc) {
        cuts.push(node.loc);
        return false; // its directives go with it
      }
      return undefined;
    },
    Directive(node) {
      if (isFederationDirective(syntax, node.name.value) && node.loc) cuts.push(node.loc);
    },
  });
  let text = source;
  for (const cut of cuts.sort((a, b) => b.start - a.start)) {
    // Also the blank before a directive (`type User @key(...) {` → `type User {`).
    const start = cut.start > 0 && text[cut.start - 1] === ' ' ? cut.start - 1 : cut.start;
    text = text.slice(0, start) + text.slice(cut.end);
  }
  return text;
}

/**
 * Definitions of the federation directives the SDL uses (`@link` and its imports) and the types
 * their arguments need, as the subgraph library defines them: the prelude codegen reads next to
 * schema/ so it knows `@key` and `@link` exactly as `buildSubgraphSchema` does.
 */
export function federationDefinitionsSdl(source: string): string {
  const syntax = federationSyntaxOf(parse(source));
  const subgraph = buildSubgraphSchema({ typeDefs: parse(source) });
  const directives: GraphQLDirective[] = subgraph.getDirectives().filter((d) => syntax.directives.has(d.name));
  return printSchema(new GraphQLSchema({ directives }));
}
