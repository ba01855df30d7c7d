import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';

/**
 * Apollo Server's cache of parsed and validated documents, sized by the memory a document really
 * holds.
 *
 * Apollo's default store is bounded at 30 MiB of the documents' JSON text, and that is not what they
 * hold in memory: a parsed document keeps its whole source text (comments included, which are not
 * tokens and pass MAX_TOKENS) and its token list, neither of which appears in its JSON. Measured on
 * graphql 16: ~5.5 bytes of heap per byte of JSON, plus the source text. So one caller with any
 * valid credential could fill 30 MiB "of JSON" with `{ __typename } # <900 KB of comment>` documents,
 * each holding ~900 KB: with the image's 128 MB heap the gateway died of heap exhaustion after
 * ~110 such requests (test/reliability/memory-bounds.test.ts). Here a document counts twice its
 * source length (two bytes per character at worst) plus six times its JSON size, and the store keeps
 * at most DOCUMENT_STORE_MAX_BYTES of that: a few thousand typical operations, or a handful of huge
 * ones (LRU: a flood of unique documents only evicts, it does not grow).
 */
export const DOCUMENT_STORE_MAX_BYTES = 16 * 2 ** 20;

export function documentMemoryEstimate(document: DocumentNode): number {
  const source = document.loc?.source.body.length ?? 0;
  return 2 * source + 6 * InMemoryLRUCache.sizeCalculation(document);
}

export function createDocumentStore(maxBytes = DOCUMENT_STORE_MAX_BYTES): InMemoryLRUCache<DocumentNode> {
  return new InMemoryLRUCache<DocumentNode>({ maxSize: maxBytes, sizeCalculation: documentMemoryEstimate });
}
