/**
 * Organizational contacts (`orgContact`) where the user API meets them: a user's manager can be a
 * contact, and a user's direct reports can include contacts (List manager, List directReports;
 * docs/graph-facts.md#manager-and-bulk-lookup). They come typed `#microsoft.graph.orgContact`.
 * A caller without a permission that reads contacts still gets them, with their type and id only
 * and every other selected property null ("limited information", permissions-overview).
 */
import { randomUUID } from 'node:crypto';
import { optionalString, rejectUnknownSettings } from './admin-body.js';
import type { ContactRecord, TenantModel, UserRecord } from '../model.js';
import type { Principal } from './authorization.js';

export const ORG_CONTACT_TYPE = '#microsoft.graph.orgContact';

/** Properties an orgContact has among those a user query may select (the rest are users' only). */
export function contactToGraph(c: ContactRecord): Record<string, unknown> {
  return {
    id: c.id,
    deletedDateTime: null,
    displayName: c.displayName,
    givenName: c.givenName,
    surname: c.surname,
    mail: c.mail,
    mailNickname: c.mailNickname,
    jobTitle: c.jobTitle,
    department: c.department,
    companyName: c.companyName,
    businessPhones: [],
    mobilePhone: null,
    proxyAddresses: [],
  };
}

const CONTACT_DEFAULT_SELECT = ['id', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'jobTitle', 'department', 'companyName'];

/** orgcontact-get: OrgContact.Read.All, Directory.Read.All, Directory.ReadWrite.All (delegated also Directory.AccessAsUser.All). */
const CONTACT_READ = ['OrgContact.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

export function canReadContacts(principal: Principal): boolean {
  if (CONTACT_READ.some((p) => principal.permissions.has(p))) return true;
  return principal.kind === 'user' && principal.permissions.has('Directory.AccessAsUser.All');
}

export function isContact(record: UserRecord | ContactRecord): record is ContactRecord {
  return (record as ContactRecord).kind === 'orgContact';
}

/**
 * A contact as a directoryObject item: `@odata.type` and `id`, then the selected properties a
 * contact has (a user-only property such as `userPrincipalName` is left out); with limited
 * information, every selected property other than `id` is null.
 */
export function renderContact(principal: Principal, contact: ContactRecord, select: readonly string[] | undefined): Record<string, unknown> {
  const full = contactToGraph(contact);
  const out: Record<string, unknown> = { '@odata.type': ORG_CONTACT_TYPE, id: contact.id };
  const limited = !canReadContacts(principal);
  for (const p of select ?? CONTACT_DEFAULT_SELECT) {
    if (p === 'id') continue;
    if (limited) out[p] = null;
    else if (p in full) out[p] = full[p];
  }
  return out;
}

export interface NewContact {
  displayName: string;
  mail?: string | null;
  givenName?: string | null;
  surname?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  companyName?: string | null;
  /** Object id of the user the contact reports to. */
  manager?: string | null;
  /** Object ids of users whose manager the contact becomes. */
  reports?: string[];
}

/** `POST /_emulator/contacts`: adds an organizational contact, optionally wired into the org chart. */
export function addContact(tenant: TenantModel, body: Record<string, unknown>): { id: string } {
  const displayName = body.displayName;
  if (typeof displayName !== 'string' || displayName.trim() === '') throw new Error("'displayName' is required (a non-empty string).");
  rejectUnknownSettings(body, ['displayName', 'mail', 'givenName', 'surname', 'jobTitle', 'department', 'companyName', 'manager', 'reports'], 'contact');
  const manager = optionalString(body, 'manager');
  if (manager !== null && !tenant.users.has(manager)) throw new Error(`'manager' must be the object id of a user; '${manager}' is not one.`);
  const reports = body.reports ?? [];
  if (!Array.isArray(reports) || !reports.every((r): r is string => typeof r === 'string' && tenant.users.has(r))) {
    throw new Error("'reports' must be a list of users' object ids.");
  }
  const mail = optionalString(body, 'mail');
  const contact: ContactRecord = {
    kind: 'orgContact',
    id: randomUUID(),
    displayName,
    givenName: optionalString(body, 'givenName'),
    surname: optionalString(body, 'surname'),
    mail,
    mailNickname: mail ? mail.split('@')[0]! : null,
    jobTitle: optionalString(body, 'jobTitle'),
    department: optionalString(body, 'department'),
    companyName: optionalString(body, 'companyName'),
    managerId: manager,
  };
  tenant.contacts.set(contact.id, contact);
  for (const id of reports) tenant.users.get(id)!.managerId = contact.id;
  return { id: contact.id };
}
