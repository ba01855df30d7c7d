import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';

/** docs/configuration.md names every variable src/config.ts reads (CONFIG_VARIABLES is that list, by its type). */
describe('docs/configuration.md', () => {
  it('documents every variable the configuration reads', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../docs/configuration.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!.toUpperCase()));
    expect(CONFIG_VARIABLES.filter((name) => !documented.has(name.toUpperCase()))).toEqual([]);
  });
});
