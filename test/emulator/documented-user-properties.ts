/**
 * The user properties Microsoft documents (learn.microsoft.com/graph/api/user-get, /user-list;
 * docs/graph-facts.md#user-properties), written out here from that documentation. The emulator
 * has its own table (src/emulator/graph/entities.ts); tests check it against these and must never
 * import it, or they would compare the emulator with itself.
 */

/** What a user carries without `$select`, sorted. */
export const DOCUMENTED_DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];

/** Properties only a single-user GET returns: a list request selecting one is refused (501). */
export const DOCUMENTED_SINGLE_GET_ONLY_USER_PROPERTIES = [
  'aboutMe',
  'birthday',
  'hireDate',
  'interests',
  'mySite',
  'pastProjects',
  'preferredName',
  'responsibilities',
  'schools',
  'skills',
  'mailboxSettings',
];
