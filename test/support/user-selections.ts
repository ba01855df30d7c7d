/** Profile fields of User that each map to one Graph property (src/graphql/select.ts). */
const PROFILE_FIELDS = [
  'displayName',
  'givenName',
  'surname',
  'mail',
  'jobTitle',
  'department',
  'officeLocation',
  'mobilePhone',
  'employeeId',
  'companyName',
  'userType',
  'accountEnabled',
];

/**
 * `count` different User selections of two profile fields each (at most 66): each becomes a `$select`
 * of its own, so lookups by id in different selections cannot share one getByIds.
 */
export function distinctUserSelections(count: number): string[] {
  const out: string[] = [];
  for (let a = 0; a < PROFILE_FIELDS.length; a++) for (let b = a + 1; b < PROFILE_FIELDS.length; b++) out.push(`${PROFILE_FIELDS[a]} ${PROFILE_FIELDS[b]}`);
  if (count > out.length) throw new Error(`only ${out.length} distinct selections of two fields`);
  return out.slice(0, count);
}
