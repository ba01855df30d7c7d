import type { UserOrder } from '../generated/graphql.js';

export interface CompiledOrder {
  text: string;
  /**
   * createdDateTime, or any descending order, is advanced-only even without a filter; any order
   * combined with a filter is advanced-only too (docs/graph-facts.md#listing-users, "$orderby").
   */
  advancedAlone: boolean;
}

const PROPERTY: Record<UserOrder['field'], string> = {
  DISPLAY_NAME: 'displayName',
  USER_PRINCIPAL_NAME: 'userPrincipalName',
  CREATED_DATE_TIME: 'createdDateTime',
};

export function compileUserOrder(order: UserOrder | null | undefined): CompiledOrder | null {
  if (!order) return null;
  const descending = order.direction === 'DESC';
  // Graph has refused descending order on a default query (docs/graph-facts.md#listing-users): it goes as an advanced query.
  return { text: `${PROPERTY[order.field]}${descending ? ' desc' : ''}`, advancedAlone: order.field === 'CREATED_DATE_TIME' || descending };
}
