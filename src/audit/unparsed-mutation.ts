/**
 * Whether a document the parser refused to read (its token limit) asks for a mutation, judged
 * from its text alone: its first keyword, after what GraphQL ignores (spaces, line ends, commas,
 * a byte-order mark, `#` comments), is `mutation`. Nothing else of the text is read or kept: the
 * document can hold a password. A mutation placed after a query or a fragment in the same document
 * is not recognised; the document is refused either way, and nothing of it was run.
 *
 * A loop rather than a regular expression: a pattern over comments that may contain `#`
 * backtracks exponentially on a text that does not match.
 */
export interface UnparsedMutation {
  /** The operation's name, when one follows the keyword. */
  operationName: string | undefined;
}

const KEYWORD = 'mutation';
const NAME = /[_A-Za-z][_0-9A-Za-z]*/y;

export function unparsedMutationOf(source: string): UnparsedMutation | undefined {
  const start = afterIgnored(source, 0);
  if (!source.startsWith(KEYWORD, start) || isNameCharacter(source.charCodeAt(start + KEYWORD.length))) return undefined;
  NAME.lastIndex = afterIgnored(source, start + KEYWORD.length);
  return { operationName: NAME.exec(source)?.[0] };
}

function afterIgnored(source: string, from: number): number {
  let i = from;
  while (i < source.length) {
    const c = source[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\uFEFF') {
      i += 1;
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i += 1;
    } else {
      break;
    }
  }
  return i;
}

function isNameCharacter(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}
