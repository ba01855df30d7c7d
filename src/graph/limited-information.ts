import { ErrorCode, GatewayError } from '../errors.js';
import type { GraphDirectoryObject } from './api.js';

/**
 * Graph lists a directoryObject relationship to any caller that reaches it, and an object whose type
 * the caller may not read comes back with limited information: `@odata.type` and `id`, every other
 * property null (docs/graph-facts.md#manager-and-bulk-lookup, "Limited information"). A user's
 * groups read with User.Read or User.Read.All, or their devices without Device.Read.All, come back
 * like that with 200, not 403.
 *
 * Every group and every device has a display name (resources/group and resources/device mark it
 * "Required"), so the gateway always selects it on `memberOf` and `ownedDevices`: a group or device
 * without one is such an object, and showing it as a group without a name would be a lie. The field
 * fails with FORBIDDEN instead, as it would had Graph refused the call.
 */
export const ALWAYS_SET_PROPERTY = 'displayName';

export type LimitedKind = 'groups' | 'devices';

export function hasLimitedInformation(item: GraphDirectoryObject): boolean {
  return item[ALWAYS_SET_PROPERTY] === null || item[ALWAYS_SET_PROPERTY] === undefined;
}

export function limitedInformationError(kind: LimitedKind, requestId: string | undefined): GatewayError {
  return new GatewayError(
    ErrorCode.FORBIDDEN,
    `Microsoft Graph listed this user's ${kind} with limited information (type and id only): the gateway's Microsoft Graph identity may not read ${kind}. npm run doctor names the permission it needs.`,
    { ...(requestId ? { requestId } : {}), graphLimitedInformation: true },
  );
}

/** The items, or FORBIDDEN when any of them came with limited information. */
export function requireFullInformation<T extends GraphDirectoryObject>(items: T[], kind: LimitedKind, requestId: string | undefined): T[] {
  if (items.some(hasLimitedInformation)) throw limitedInformationError(kind, requestId);
  return items;
}
