import { isDeviceObject, isGroupObject, isUserObject, type GraphDirectoryObject } from './api.js';
import { requireFullInformation, type LimitedKind } from './limited-information.js';

/** The user relationships whose pages the gateway reads. */
export type RelationshipCollection = 'directReports' | 'memberOf' | 'ownedDevices';

interface RelationshipItems {
  /** The objects the field shows: directReports holds organizational contacts, memberOf directory
   *  roles and administrative units, ownedDevices endpoints and appRoleAssignments
   *  (docs/graph-facts.md#manager-and-bulk-lookup); each field shows its type. */
  shows: (item: GraphDirectoryObject) => boolean;
  /** Set where Graph may list shown objects with limited information (src/graph/limited-information.ts). */
  limited?: LimitedKind;
}

/** One table for the first pages (src/graph/loaders.ts) and the later ones (src/graph/client.ts). */
const RELATIONSHIP_ITEMS: Record<RelationshipCollection, RelationshipItems> = {
  directReports: { shows: isUserObject },
  memberOf: { shows: isGroupObject, limited: 'groups' },
  ownedDevices: { shows: isDeviceObject, limited: 'devices' },
};

/** The page's items the field shows, or FORBIDDEN when one of them came with limited information. */
export function shownItems<T extends GraphDirectoryObject>(relationship: RelationshipCollection, items: readonly T[], requestId: string | undefined): T[] {
  const { shows, limited } = RELATIONSHIP_ITEMS[relationship];
  const shown = items.filter(shows);
  return limited ? requireFullInformation(shown, limited, requestId) : shown;
}
