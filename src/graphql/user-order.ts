import type { UserOrder } from '../generated/graphql.js';

export interface CompiledOrder {
  text: string;
  /** createdDateTime, or any order combined with a filter, is advanced-only (docs/graph-facts.md#listing-users). */
  advancedAlone: boolean;
}

const PROPERTY: Record<UserOrder['field'], string> = {
  DISPLAY_NAME: 'displayName',
  USER_PRINCIPAL_NAME: 'userPrincipalName',
  CREATED_DATE_TIME: 'createdDateTime',
};

export function compileUserOrder(order: UserOrder | null | undefined): CompiledOrder | null {
  if (!order) return null;
  const direction = order.direction === 'DESC' ? ' desc' : '';
  return { text: `${PROPERTY[order.field]}${direction}`, advancedAlone: order.field === 'CREATED_DATE_TIME' };
}
