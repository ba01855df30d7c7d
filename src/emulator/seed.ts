/**
 * The seeded directory: users with an org chart, groups, devices and authentication methods.
 * Everything is drawn from one PRNG so the same seed and size always give the same tenant, which
 * tests, docs and benchmarks rely on (ids, UPNs and quirky names stay put between runs).
 */
import { digestGuid } from './digest-guid.js';
import { graphTimestamp, newUserRecord } from './user-record.js';
import { createPrng, type Prng } from './prng.js';
import type { AuthMethodRecord, DeviceRecord, GroupRecord, TenantModel, UserRecord } from './model.js';

/** Graph gives every user's password method this same id. */
export { PASSWORD_METHOD_ID } from './user-record.js';
/** Graph's well-known phone method ids (one per phone type). */
export const PHONE_METHOD_IDS = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
} as const;
export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

export const GUEST_DOMAIN = 'fabrikam.example';
/**
 * The home tenant of the guests (B2B users of GUEST_DOMAIN): the tenant whose STS authenticates
 * them, named by the `idp` claim of their tokens (docs/graph-facts.md#caller-tokens).
 */
export const GUEST_HOME_TENANT_ID = '5b2c4e8a-1f3d-4a6b-9c7e-2d8f0a1b3c5d';
export const SERVICE_ACCOUNT_UPN_LOCAL = '$svc-backup';

const FIRST_NAMES = [
  'Adele',
  'Alex',
  'Allan',
  'Bianca',
  'Brian',
  'Cameron',
  'Christie',
  'Debra',
  'Diego',
  'Emily',
  'Enrico',
  'Grady',
  'Henrietta',
  'Irvin',
  'Isaiah',
  'Johanna',
  'Joni',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Patti',
  'Pradeep',
  'Raul',
  'Sanjay',
  'Sofia',
  'Tomás',
  'Valeria',
  'Wei',
  'Yuki',
  'Zara',
  'Kwame',
  'Ines',
  'Oskar',
  'Priya',
  'Mateo',
  'Freya',
  'Hamid',
  'Leila',
  'Ngozi',
  'Pablo',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Viktor',
];
const LAST_NAMES = [
  'Vance',
  'Wilber',
  'Deyoung',
  'Pires',
  'Johnson',
  'Evans',
  'Cline',
  'Berger',
  'Siciliani',
  'Braun',
  'Bowen',
  'Archie',
  'Gusev',
  'Sayers',
  'Lambert',
  'Zrinski',
  'Gonzalez',
  'Tanaka',
  'Holloway',
  'Lee',
  'Bowen',
  'Patel',
  'Okafor',
  'Nakamura',
  'Schmidt',
  'Rossi',
  'Novak',
  'Kowalski',
  'Haddad',
  'Mensah',
  'Larsen',
  'Moreau',
  'Fischer',
  'Silva',
  'Chen',
  'Kim',
  'Singh',
  'Ahmed',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fernandez',
];
/** Surnames with apostrophes: legal in UPNs and a classic `$filter` escaping trap. */
const APOSTROPHE_SURNAMES = ["O'Brien", "O'Neil", "D'Angelo"];
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Human Resources', 'Legal', 'Operations', 'Support', 'Research', 'IT'];
const TITLES: Record<string, string[]> = {
  Engineering: ['Software Engineer', 'Senior Software Engineer', 'Site Reliability Engineer', 'QA Engineer'],
  Sales: ['Account Executive', 'Sales Representative', 'Sales Engineer'],
  Marketing: ['Marketing Specialist', 'Content Strategist', 'Product Marketing Manager'],
  Finance: ['Accountant', 'Financial Analyst', 'Controller'],
  'Human Resources': ['HR Generalist', 'Recruiter', 'HR Business Partner'],
  Legal: ['Counsel', 'Paralegal', 'Compliance Officer'],
  Operations: ['Operations Analyst', 'Logistics Coordinator', 'Facilities Manager'],
  Support: ['Support Engineer', 'Customer Success Manager', 'Technical Writer'],
  Research: ['Research Scientist', 'Data Scientist', 'Research Engineer'],
  IT: ['Systems Administrator', 'Network Engineer', 'Security Analyst', 'Helpdesk Technician'],
};
const OFFICES = [
  { office: '18/2111', city: 'Redmond', country: 'United States', usageLocation: 'US' },
  { office: '20/1101', city: 'Redmond', country: 'United States', usageLocation: 'US' },
  { office: '131/1104', city: 'Seattle', country: 'United States', usageLocation: 'US' },
  { office: 'LON-4.12', city: 'London', country: 'United Kingdom', usageLocation: 'GB' },
  { office: 'BER-2.03', city: 'Berlin', country: 'Germany', usageLocation: 'DE' },
  { office: 'BLR-7.40', city: 'Bengaluru', country: 'India', usageLocation: 'IN' },
  { office: 'TYO-11.5', city: 'Tokyo', country: 'Japan', usageLocation: 'JP' },
  { office: 'SAO-3.21', city: 'São Paulo', country: 'Brazil', usageLocation: 'BR' },
];
const LANGUAGES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP', 'pt-BR', 'es-ES'];

/** A stable tenant id for a seed (independent of the directory size). */
export function tenantIdForSeed(seed: number): string {
  return createPrng((seed ^ 0x5eed7e4a) >>> 0).guid();
}

/** UPN local part: only the characters Entra allows (`A–Z a–z 0–9 ' . - _ ! # ^ ~`), no accents. */
function upnLocal(first: string, last: string): string {
  const clean = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9'._!^~-]/g, '')
      .toLowerCase();
  return `${clean(first)}.${clean(last)}`;
}

/** A deterministic password that satisfies Entra's complexity rules (4 classes, 12+ chars). */
function passwordFor(prng: Prng): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz';
  let core = '';
  for (let i = 0; i < 6; i += 1) core += alphabet[prng.int(0, alphabet.length - 1)];
  return `Pw-${core}${prng.int(1000, 9999)}!Q`;
}

function phone(prng: Prng): string {
  return `+1 425 555 ${String(prng.int(100, 9999)).padStart(4, '0')}`;
}

function emptyUser(id: string, displayName: string, upn: string, createdMs: number, password: string): UserRecord {
  // Seeded accounts are tenant members with a mailbox; the rest starts as a new account does.
  return { ...newUserRecord({ id, displayName, userPrincipalName: upn, createdMs, password }), mail: upn, companyName: 'Contoso', preferredLanguage: 'en-US' };
}

function seedAuthMethods(prng: Prng, user: UserRecord): void {
  const created = user.createdDateTime;
  const add = (method: AuthMethodRecord) => user.authMethods.push(method);
  if (prng.chance(0.5)) add({ id: EMAIL_METHOD_ID, type: 'email', data: { emailAddress: `${user.mailNickname}@personal.example` } });
  if (prng.chance(0.6))
    add({
      id: PHONE_METHOD_IDS.mobile,
      type: 'phone',
      data: { phoneNumber: user.mobilePhone ?? phone(prng), phoneType: 'mobile', smsSignInState: 'notConfigured' },
    });
  if (prng.chance(0.1))
    add({ id: PHONE_METHOD_IDS.office, type: 'phone', data: { phoneNumber: phone(prng), phoneType: 'office', smsSignInState: 'notSupported' } });
  if (prng.chance(0.55)) {
    add({
      id: prng.guid(),
      type: 'microsoftAuthenticator',
      data: {
        displayName: prng.pick(['iPhone 15', 'Pixel 8', 'Galaxy S24', 'iPhone 13']),
        deviceTag: 'SoftwareTokenActivated',
        phoneAppVersion: '6.2401.0119',
        createdDateTime: created,
      },
    });
  }
  if (prng.chance(0.12)) {
    add({
      id: prng.guid(),
      type: 'fido2',
      data: {
        displayName: 'YubiKey 5 NFC',
        model: 'YubiKey 5 NFC',
        aaGuid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
        attestationLevel: 'attested',
        attestationCertificates: [],
        createdDateTime: created,
      },
    });
  }
  if (prng.chance(0.08)) add({ id: prng.guid(), type: 'softwareOath', data: { secretKey: null } });
  if (prng.chance(0.15))
    add({
      id: prng.guid(),
      type: 'windowsHelloForBusiness',
      data: { displayName: `DESKTOP-${prng.int(1000, 9999)}`, keyStrength: 'normal', createdDateTime: created },
    });
  if (prng.chance(0.02)) {
    add({
      id: prng.guid(),
      type: 'temporaryAccessPass',
      data: {
        temporaryAccessPass: null,
        createdDateTime: created,
        startDateTime: created,
        lifetimeInMinutes: 60,
        isUsableOnce: true,
        // isUsable and methodUsabilityReason are worked out when read (src/emulator/graph/auth-methods.ts): Expired.
      },
    });
  }
  user._defaultMfaMethodId = defaultMfaMethod(user)?.id ?? null;
}

/**
 * The default MFA method a user who registered these methods would have: the Authenticator app (push),
 * else the mobile phone (SMS), else the office phone (voice), else a software OATH token: each a value
 * of Graph's userDefaultAuthenticationMethodType (push, sms, voiceOffice, oath; beta signInPreferences).
 * Chosen without the PRNG, so the rest of the seed stays as it was.
 */
function defaultMfaMethod(user: UserRecord): AuthMethodRecord | undefined {
  const m = user.authMethods;
  return (
    m.find((x) => x.type === 'microsoftAuthenticator') ??
    m.find((x) => x.type === 'phone' && x.data.phoneType === 'mobile') ??
    m.find((x) => x.type === 'phone' && x.data.phoneType === 'office') ??
    m.find((x) => x.type === 'softwareOath')
  );
}

/** Fills the model's users, groups and devices, and the well-known admin identity. */
export function seedDirectory(model: TenantModel, options: { seed: number; userCount: number }): void {
  const prng = createPrng((options.seed * 2654435761) >>> 0);
  const userCount = Math.max(3, Math.floor(options.userCount));
  const domain = model.domain;
  const startMs = Date.UTC(2016, 0, 4);
  const endMs = Date.UTC(2024, 11, 20);
  const createdAt = () => startMs + Math.floor((prng.next() * (endMs - startMs)) / 1000) * 1000;
  const usedUpns = new Set<string>();
  const uniqueUpn = (local: string, host: string) => {
    let candidate = `${local}@${host}`;
    for (let n = 2; usedUpns.has(candidate.toLowerCase()); n += 1) candidate = `${local}${n}@${host}`;
    usedUpns.add(candidate.toLowerCase());
    return candidate;
  };
  const users: UserRecord[] = [];

  // Groups and devices first so users can reference them.
  const groups: GroupRecord[] = [];
  const groupNames = [
    ...DEPARTMENTS.map((d) => `${d} Team`),
    'All Staff',
    'VPN Users',
    'Privileged Access',
    'Contractors',
    'Project Falcon',
    'Project Orion',
    'Book Club',
    'Security Champions',
  ];
  for (const name of groupNames) {
    const isUnified = prng.chance(0.4);
    const nick = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    groups.push({
      id: prng.guid(),
      displayName: name,
      description: `${name} (seeded)`,
      mail: isUnified ? `${nick}@${domain}` : null,
      mailEnabled: isUnified,
      securityEnabled: !isUnified,
      groupTypes: isUnified ? ['Unified'] : [],
    });
  }
  for (const g of groups) model.groups.set(g.id, g);

  // Well-known identities first: the Global Administrator, the CEO and the `$` service account.
  const adminPassword = passwordFor(prng);
  const admin = emptyUser(prng.guid(), 'Contoso Administrator', uniqueUpn('admin', domain), startMs, adminPassword);
  Object.assign(admin, {
    givenName: 'Contoso',
    surname: 'Administrator',
    jobTitle: 'IT Administrator',
    department: 'IT',
    _directoryRoles: ['Global Administrator'],
  });
  users.push(admin);

  const ceo = emptyUser(prng.guid(), 'Patti Fernandez', uniqueUpn('patti.fernandez', domain), startMs + 86_400_000, passwordFor(prng));
  Object.assign(ceo, {
    givenName: 'Patti',
    surname: 'Fernandez',
    jobTitle: 'Chief Executive Officer',
    department: 'Executive',
    employeeId: 'E00001',
    officeLocation: OFFICES[0]!.office,
    city: 'Redmond',
    country: 'United States',
    usageLocation: 'US',
  });
  users.push(ceo);

  const svc = emptyUser(prng.guid(), 'Backup Service', uniqueUpn(SERVICE_ACCOUNT_UPN_LOCAL, domain), startMs + 2 * 86_400_000, passwordFor(prng));
  Object.assign(svc, { mail: null, mailNickname: 'svc-backup', companyName: null, jobTitle: 'Service Account', employeeType: 'Service' });
  users.push(svc);

  const vps: UserRecord[] = [];
  const managers: UserRecord[] = [];
  let apostrophesLeft = APOSTROPHE_SURNAMES.length;
  for (let i = users.length; i < userCount; i += 1) {
    const first = prng.pick(FIRST_NAMES);
    // A few people with apostrophes, spread over the directory, always present in a 1000-user tenant.
    const last = apostrophesLeft > 0 && i % 97 === 13 ? APOSTROPHE_SURNAMES[APOSTROPHE_SURNAMES.length - apostrophesLeft--]! : prng.pick(LAST_NAMES);
    const isGuest = i > 10 && prng.chance(0.03);
    const upn = isGuest ? uniqueUpn(`${upnLocal(first, last)}_${GUEST_DOMAIN}#EXT#`, domain) : uniqueUpn(upnLocal(first, last), domain);
    const user = emptyUser(prng.guid(), `${first} ${last}`, upn, createdAt(), passwordFor(prng));
    user.givenName = first;
    user.surname = last;
    if (isGuest) {
      user.userType = 'Guest';
      user.mail = `${upnLocal(first, last)}@${GUEST_DOMAIN}`;
      user.mailNickname = `${upnLocal(first, last).replace(/'/g, '')}_${GUEST_DOMAIN}#EXT#`;
      user.otherMails = [user.mail];
      user.companyName = 'Fabrikam';
      user.preferredLanguage = null;
      users.push(user);
      continue;
    }
    const department = prng.pick(DEPARTMENTS);
    const place = prng.pick(OFFICES);
    user.department = department;
    user.jobTitle = prng.pick(TITLES[department]!);
    user.officeLocation = place.office;
    user.city = place.city;
    user.country = place.country;
    user.usageLocation = place.usageLocation;
    user.preferredLanguage = prng.pick(LANGUAGES);
    user.employeeId = `E${String(i + 1).padStart(5, '0')}`;
    user.employeeType = prng.chance(0.9) ? 'Employee' : 'Contractor';
    user.businessPhones = prng.chance(0.8) ? [phone(prng)] : [];
    user.mobilePhone = prng.chance(0.7) ? phone(prng) : null;
    user.accountEnabled = !prng.chance(0.05);
    if (prng.chance(0.2)) {
      user.onPremisesSyncEnabled = true;
      user.onPremisesImmutableId = Buffer.from(user.id.replace(/-/g, ''), 'hex').toString('base64');
    }
    if (vps.length < Math.min(8, Math.max(1, Math.floor(userCount / 60)))) {
      user.jobTitle = `VP of ${department}`;
      vps.push(user);
    } else if (prng.chance(0.1)) {
      user.jobTitle = `${department} Manager`;
      managers.push(user);
    }
    users.push(user);
  }

  // Org chart: CEO ← VPs ← managers ← everyone else; a few members have no manager at all.
  for (const vp of vps) vp.managerId = ceo.id;
  for (const m of managers) m.managerId = (vps.length > 0 ? prng.pick(vps) : ceo).id;
  // Sets, not Array.includes: a 25,000-user tenant has ~2,500 managers (seeding stays linear).
  const leaders = new Set<UserRecord>([admin, ceo, svc, ...vps, ...managers]);
  for (const u of users) {
    if (leaders.has(u) || u.userType === 'Guest') continue;
    if (prng.chance(0.02)) continue;
    u.managerId = (managers.length > 0 ? prng.pick(managers) : vps.length > 0 ? prng.pick(vps) : ceo).id;
  }

  // Directory roles: a second Global Administrator and a few lesser admins.
  const members = users.filter((u) => u.userType === 'Member' && u !== admin && u !== ceo && u !== svc && u.accountEnabled);
  const roleAssignments: Array<[string, number]> = [
    ['Global Administrator', 1],
    ['Privileged Authentication Administrator', 1],
    ['User Administrator', 2],
    ['Helpdesk Administrator', 2],
    ['Authentication Administrator', 1],
  ];
  let cursor = 0;
  for (const [role, count] of roleAssignments) {
    for (let n = 0; n < count && cursor < members.length; n += 1) members[cursor++]!._directoryRoles.push(role);
  }
  // Administrators the transitiveMemberOf lookup does not see (docs/security.md#administrators-as-targets):
  // one only eligible for Global Administrator through PIM, one User Administrator over an
  // administrative unit. Taken from the end of the list, so that tests picking the first ordinary
  // members keep their users; the unit's id is derived, not drawn, so the PRNG's sequence is unchanged.
  if (members.length > cursor + 2) {
    members[members.length - 1]!._eligibleRoles = [{ role: 'Global Administrator', directoryScopeId: '/' }];
    const unitId = digestGuid(`administrativeUnit:${admin.id}`);
    members[members.length - 2]!._scopedRoles = [{ role: 'User Administrator', directoryScopeId: `/administrativeUnits/${unitId}` }];
  }

  // Memberships, devices, authentication methods.
  const allStaff = groups.find((g) => g.displayName === 'All Staff')!;
  const groupByName = new Map(groups.map((g) => [g.displayName, g]));
  for (const u of users) {
    if (u.userType === 'Member' && u !== svc) u.memberOf.push(allStaff.id);
    const deptGroup = groupByName.get(`${u.department} Team`);
    if (deptGroup) u.memberOf.push(deptGroup.id);
    const extra = prng.int(0, 2);
    for (let n = 0; n < extra; n += 1) {
      const g = prng.pick(groups);
      if (!u.memberOf.includes(g.id)) u.memberOf.push(g.id);
    }
    if (u.userType === 'Member' && u !== svc) {
      const deviceCount = prng.int(0, 3);
      for (let n = 0; n < deviceCount; n += 1) {
        const os = prng.pick([
          ['Windows', '10.0.22631.3007'],
          ['Windows', '10.0.19045.3803'],
          ['MacMDM', '14.2.1'],
          ['iOS', '17.2.1'],
          ['Android', '14.0'],
        ] as const);
        const device: DeviceRecord = {
          id: prng.guid(),
          deviceId: prng.guid(),
          displayName: `${os[0] === 'Windows' ? 'DESKTOP' : os[0].toUpperCase()}-${prng.int(10000, 99999)}`,
          operatingSystem: os[0],
          operatingSystemVersion: os[1],
          accountEnabled: prng.chance(0.95),
          trustType: os[0] === 'Windows' ? prng.pick(['AzureAd', 'ServerAd', 'Workplace']) : 'Workplace',
          approximateLastSignInDateTime: graphTimestamp(endMs - prng.int(0, 90) * 86_400_000),
        };
        model.devices.set(device.id, device);
        u.ownedDevices.push(device.id);
      }
    }
    seedAuthMethods(prng, u);
  }

  for (const u of users) model.users.set(u.id, u);
  model.wellKnown.adminUserId = admin.id;
  model.wellKnown.adminPassword = adminPassword;
}
