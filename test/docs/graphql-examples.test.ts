import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { Kind, parse, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildGatewaySchema, loadSchemaSource } from '../../src/graphql/schema.js';

/**
 * The GraphQL in the documentation stays true to the schema: every ```graphql block of README.md and
 * docs/ is parsed; operations validate against the gateway's schema (a renamed field, argument or
 * input type fails here, not in a reader's playground), and a block of type definitions (a
 * subgraph referencing User) composes with this gateway's subgraph SDL.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const markdownFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('node_modules/') && existsSync(path.join(ROOT, f)));

interface Example {
  where: string;
  source: string;
}

function graphqlBlocks(file: string): Example[] {
  const blocks: Example[] = [];
  let current: { line: number; lines: string[] } | undefined;
  readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (current) {
        if (/^\s*```\s*$/.test(line)) {
          blocks.push({ where: `${file}:${current.line}`, source: current.lines.join('\n') });
          current = undefined;
        } else current.lines.push(line);
      } else if (/^\s*```graphql\s*$/.test(line)) current = { line: index + 1, lines: [] };
    });
  return blocks;
}

const examples = markdownFiles.flatMap(graphqlBlocks);
const schema = buildGatewaySchema();
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

function isTypeSystemOnly(document: DocumentNode): boolean {
  return document.definitions.every((d) => d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION);
}

describe('GraphQL examples in the documentation', () => {
  it('finds the examples (querying and mutations at least)', () => {
    const files = new Set(examples.map((e) => e.where.split(':')[0]));
    expect(files).toContain('docs/querying.md');
    expect(files).toContain('docs/mutations.md');
  });

  it.each(examples.map((e) => [e.where, e] as const))('%s is valid', (_where, example) => {
    const document = parse(example.source);
    if (isTypeSystemOnly(document)) {
      const withLink = /@link\(/.test(example.source) ? example.source : `${FEDERATION_LINK}\n${example.source}`;
      const result = composeServices([
        { name: 'users', typeDefs: parse(loadSchemaSource()), url: 'http://127.0.0.1:4000/graphql' },
        { name: 'example', typeDefs: parse(withLink), url: 'http://127.0.0.1:4001/' },
      ]);
      expect(result.errors?.map((e) => e.message)).toBeUndefined();
      return;
    }
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
  });
});
