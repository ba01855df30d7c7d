import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The documentation stands on its own: every link and cross-reference in README.md, docs/ and the
 * code's comments resolves inside this repository (file and heading anchor), and nothing points at
 * briefing documents or issue numbers that a reader of the repository cannot open.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(path.join(ROOT, f)));
const markdownFiles = tracked.filter((f) => f.endsWith('.md') && !f.startsWith('node_modules/'));
const codeFiles = tracked.filter((f) => /\.(ts|graphql|yaml|yml|sh)$/.test(f) && !f.startsWith('src/generated/'));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of readFileSync(path.join(ROOT, file), 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
function hasAnchor(file: string, anchor: string): boolean {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(file));
  return anchorCache.get(file)!.has(anchor);
}

/** Problems with one reference `target` (a path relative to `from`'s folder, maybe with #anchor). */
function checkTarget(from: string, target: string): string | undefined {
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const file = rawPath === '' ? from : path.normalize(path.join(path.dirname(from), decodeURIComponent(rawPath)));
  if (file.startsWith('..')) return `${target} leaves the repository`;
  if (!existsSync(path.join(ROOT, file))) return `${target} does not exist`;
  if (anchor !== undefined && anchor !== '' && file.endsWith('.md') && statSync(path.join(ROOT, file)).isFile() && !hasAnchor(file, anchor)) {
    return `${target}: no heading with anchor #${anchor} in ${file}`;
  }
  return undefined;
}

describe('documentation links', () => {
  it('every relative link and image in README.md and docs/ resolves, anchors included', () => {
    const problems: string[] = [];
    for (const file of markdownFiles) {
      let inFence = false;
      readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (/^\s*```/.test(line)) inFence = !inFence;
          if (inFence) return;
          for (const match of line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
            const target = match[1]!;
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
            const problem = checkTarget(file, target);
            if (problem) problems.push(`${file}:${index + 1}: ${problem}`);
          }
        });
    }
    expect(problems).toEqual([]);
  });

  it('every docs/… reference in code comments and docs names a file and heading that exist', () => {
    const problems: string[] = [];
    for (const file of [...codeFiles, ...markdownFiles]) {
      if (file === 'test/docs/links.test.ts') continue;
      readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          // `docs/x.md#a, #b` cites two sections of the same file.
          for (const match of line.matchAll(/(?<![\w/.])docs\/([\w-]+\.md)((?:#[\w-]+)(?:,\s*#[\w-]+)*)?/g)) {
            const doc = `docs/${match[1]}`;
            const anchors = (match[2] ?? '').split(/,\s*/).filter(Boolean);
            const targets = anchors.length ? anchors.map((a) => `${doc}${a}`) : [doc];
            for (const target of targets) {
              const problem = checkTarget('x', target);
              if (problem) problems.push(`${file}:${index + 1}: ${problem}`);
            }
          }
        });
    }
    expect(problems).toEqual([]);
  });

  it('nothing points at documents outside the repository or at issue numbers', () => {
    // Microsoft's "known issue NNNNN" ids are fine; a bare "issue N" would cite a tracker readers
    // cannot see. Links to documents are checked to resolve by the tests above; this catches paths
    // that climb out of the repository in prose and comments.
    const forbidden = [/\.\.\/shared\b/, /(?<![Kk]nown )\b[Ii]ssue \d{1,3}\b/, /\bthe seed's\b|\bas in the seed\b/i, /\bDESIGN\.md\b/];
    const problems: string[] = [];
    for (const file of [...markdownFiles, ...codeFiles]) {
      if (file === 'test/docs/links.test.ts') continue;
      readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          for (const pattern of forbidden) if (pattern.test(line)) problems.push(`${file}:${index + 1}: ${line.trim().slice(0, 160)}`);
        });
    }
    expect(problems).toEqual([]);
  });

  it('the README stays a short entry point (at most 250 lines)', () => {
    const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(250);
  });
});
