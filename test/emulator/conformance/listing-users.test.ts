/**
 * docs/graph-facts.md#listing-users: `GET /users` query options, the advanced-query rules
 * (`ConsistencyLevel: eventual` + `$count=true`), per-property `$filter` support and `$orderby`
 * (learn.microsoft.com/graph/api/user-list; learn.microsoft.com/graph/aad-advanced-queries and its
 * user table; learn.microsoft.com/graph/search-query-parameter). Filters and orders are compiled
 * with the gateway's own compilers, so every shape the gateway can send is checked against the
 * emulator as the gateway classifies it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuery } from '../../../src/graph/paths.js';
import { compileUserFilter } from '../../../src/graphql/user-filter.js';
import { compileUserOrder } from '../../../src/graphql/user-order.js';
import { compileUserSearch } from '../../../src/graphql/user-search.js';
import type { UserFilter, UserOrder } from '../../../src/generated/graphql.js';
import { type Conformance, EVENTUAL, filterQuery, graphErrorCode, startConformance } from './support.js';

let c: Conformance;
beforeAll(async () => {
  c = await startConformance(['User Administrator'], { userCount: 300 });
});
afterAll(async () => c.close());

const list = (query: Record<string, string | undefined>, headers?: Record<string, string>) =>
  c.graph('GET', `/v1.0/users${encodeQuery(query)}`, headers ? { headers } : {});
const advanced = (query: Record<string, string | undefined>) => list({ ...query, $count: 'true' }, EVENTUAL);

describe('query options (user-list)', () => {
  it('$top runs 1..999; 1000 and 0 are 400 Request_UnsupportedQuery "Invalid page size specified: \'1000\'. Must be between 1 and 999 inclusive." (the error field reports quote)', async () => {
    expect((await list({ $top: '999', $select: 'id' })).status).toBe(200);
    for (const top of ['1000', '0']) {
      const res = await list({ $top: top, $select: 'id' });
      expect(res.status).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
      expect(res.body.error.message).toBe(`Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
    }
  });

  it('$top is bounded the same way on the relationships the gateway pages (directReports, memberOf, ownedDevices)', async () => {
    const manager = c.users.find((u) => c.users.some((r) => r.managerId === u.id))!;
    for (const sub of ['directReports', 'memberOf', 'ownedDevices']) {
      expect((await c.graph('GET', `/v1.0/users/${manager.id}/${sub}?$top=999&$select=id`)).status, sub).toBe(200);
      const refused = await c.graph('GET', `/v1.0/users/${manager.id}/${sub}?$top=1000&$select=id`);
      expect(refused.status, sub).toBe(400);
      expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    }
  });

  it("directReports: the page lists no $top; honoured by default, ignored (Graph's default page of 100) under the directReportsTop switch", async () => {
    const manager = c.users.find((u) => c.users.filter((r) => r.managerId === u.id).length >= 4)!;
    const reports = c.users.filter((r) => r.managerId === manager.id).length;
    const path = `/v1.0/users/${manager.id}/directReports?$top=3&$select=id`;
    const honoured = await c.graph('GET', path);
    expect(honoured.body.value).toHaveLength(3);
    expect(honoured.body['@odata.nextLink']).toBeTruthy();
    const setting = (directReportsTop: string) => c.emulator.fetch('/_emulator/graph', { method: 'POST', body: JSON.stringify({ directReportsTop }) });
    expect((await setting('ignored')).status).toBe(200);
    try {
      const ignored = await c.graph('GET', path);
      expect(ignored.status).toBe(200);
      expect(ignored.body.value).toHaveLength(Math.min(reports, 100));
      expect(ignored.body['@odata.nextLink'] === undefined).toBe(reports <= 100);
      // An out-of-range $top is still refused.
      expect((await c.graph('GET', `/v1.0/users/${manager.id}/directReports?$top=1000`)).status).toBe(400);
      expect((await setting('sometimes')).status).toBe(400);
    } finally {
      await setting('honoured');
    }
  });

  it('$skip is not supported', async () => {
    const res = await list({ $skip: '10' });
    expect(res.status).toBe(400);
    graphErrorCode(res);
  });

  it("an unknown $-prefixed option is refused, not ignored: 400 \"Unrecognized query argument specified: '$foo'.\" (OData reserves $ for system options; the directory's message for an argument it does not know, known issue 18185)", async () => {
    for (const path of ['/v1.0/users?$foo=1', '/v1.0/users?$select=id&$Foo=bar', `/v1.0/users/${c.users[0]!.id}?$foo=1`, '/v1.0/users/delta?$foo=1']) {
      const res = await c.graph('GET', path);
      expect(res.status, path).toBe(400);
      expect(graphErrorCode(res)).toBe('Request_BadRequest');
      expect(res.body.error.message).toMatch(/^Unrecognized query argument specified: '\$foo'\.$/i);
    }
    // System options in any case, and the v1.0 forms without `$`, are not affected.
    expect((await c.graph('GET', '/v1.0/users?$SELECT=id&$Top=2')).status).toBe(200);
    expect((await c.graph('GET', '/v1.0/users?select=id&top=2')).status).toBe(200);
  });

  it('the default page size is 100', async () => {
    const res = await list({ $select: 'id' });
    expect(res.body.value).toHaveLength(100);
    expect(res.body['@odata.nextLink']).toBeTruthy();
  });
});

describe('advanced queries (aad-advanced-queries)', () => {
  it('/users/$count without ConsistencyLevel: 400 Request_BadRequest "$count is not currently supported."; with it, a plain-text number', async () => {
    const refused = await c.graph('GET', '/v1.0/users/$count');
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_BadRequest');
    expect(refused.body.error.message).toBe('$count is not currently supported.');
    const counted = await c.graph('GET', '/v1.0/users/$count', { headers: EVENTUAL });
    expect(counted.status).toBe(200);
    expect(counted.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Number(counted.text)).toBe(c.users.length);
  });

  it('?$count=true without the header is silently ignored (no @odata.count); with it, @odata.count is there', async () => {
    const ignored = await list({ $count: 'true', $top: '1', $select: 'id' });
    expect(ignored.status).toBe(200);
    expect(ignored.body).not.toHaveProperty('@odata.count');
    const counted = await advanced({ $top: '1', $select: 'id' });
    expect(counted.body['@odata.count']).toBe(c.users.length);
  });

  it('$search without the header: 400 Request_UnsupportedQuery with the documented message; the header alone is enough', async () => {
    const search = compileUserSearch({ displayName: 'patti' })!;
    const refused = await list({ $search: search });
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    expect(refused.body.error.message).toBe(
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
    const found = await list({ $search: search, $select: 'displayName' }, EVENTUAL);
    expect(found.status).toBe(200);
    expect(found.body.value.length).toBeGreaterThan(0);
  });

  it('$search takes the properties $filter takes with startsWith (search-query-parameter); every property the gateway searches is one of them', async () => {
    for (const clause of ['"accountEnabled:true"', '"aboutMe:x"', '"employeeType:Emp"', '"createdDateTime:2020"']) {
      const refused = await list({ $search: clause, $select: 'id' }, EVENTUAL);
      expect(refused.status, clause).toBe(400);
      expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    }
    const gateway = compileUserSearch({ text: 'a', displayName: 'a', mail: 'a', userPrincipalName: 'a', jobTitle: 'a', department: 'a' })!;
    const accepted = await list({ $search: gateway, $select: 'id' }, EVENTUAL);
    expect(accepted.status, accepted.text).toBe(200);
  });

  it.each([
    ["endsWith(mail,'.example')", 'endsWith'],
    ['accountEnabled ne true', 'ne'],
    ["not(startsWith(displayName,'A'))", 'not'],
    ['jobTitle eq null', 'eq null'],
    ["officeLocation eq '18/2111'", 'advanced-only property'],
  ])('%s (%s) needs both the header and $count=true', async (filter) => {
    const none = await c.graph('GET', `/v1.0/users${filterQuery(filter)}`);
    expect(none.status).toBe(400);
    expect(graphErrorCode(none)).toBe('Request_UnsupportedQuery');
    const headerOnly = await c.graph('GET', `/v1.0/users${filterQuery(filter)}`, { headers: EVENTUAL });
    expect(headerOnly.status).toBe(400);
    expect(graphErrorCode(headerOnly)).toBe('Request_UnsupportedQuery');
    const countOnly = await c.graph('GET', `/v1.0/users${filterQuery(filter, '&$count=true')}`);
    expect(countOnly.status).toBe(400);
    const both = await c.graph('GET', `/v1.0/users${filterQuery(filter, '&$count=true')}`, { headers: EVENTUAL });
    expect(both.status).toBe(200);
  });

  it('a property not indexed for an operator fails even as an advanced query (endsWith on displayName)', async () => {
    const res = await c.graph('GET', `/v1.0/users${filterQuery("endsWith(displayName,'a')", '&$count=true')}`, { headers: EVENTUAL });
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
  });

  // aad-advanced-queries: "The not and ne negation operators are supported only with advanced query parameters.
  // All properties that support the eq operator also support the ne or not operators", with NOT(companyName eq
  // 'Microsoft') and NOT startsWith(displayName, 'Conf') as examples; `not` over a group is not documented (the
  // stricter reading refuses it).
  it('`not` negates one property clause, as an advanced query; `not` over an and/or group or a ge/le range is 400 Request_UnsupportedQuery', async () => {
    for (const clause of [
      "not (department eq 'Legal')",
      "not startsWith(displayName,'A')",
      "not (department in ('Legal','Sales'))",
      'not (accountEnabled eq true)',
    ]) {
      expect((await advanced({ $filter: clause })).status, clause).toBe(200);
      const plain = await list({ $filter: clause });
      expect(plain.status, clause).toBe(400);
      expect(graphErrorCode(plain)).toBe('Request_UnsupportedQuery');
    }
    for (const clause of [
      "not (department eq 'Legal' and accountEnabled eq true)",
      "not ((department eq 'Legal') or (jobTitle eq 'Engineer'))",
      "not (not (department eq 'Legal'))",
      // `not` goes with `eq` in the page's rule and examples, never over a range (the current table lists no
      // eq for createdDateTime): the stricter reading refuses it.
      'not (createdDateTime ge 2020-01-01T00:00:00Z)',
      'not (createdDateTime le 2020-01-01T00:00:00Z)',
    ]) {
      const refused = await advanced({ $filter: clause });
      expect(refused.status, clause).toBe(400);
      expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    }
  });

  it("the gateway's `filter.not` goes out as `not` on single conditions (De Morgan), which Graph takes, and selects the same users", async () => {
    const filter: UserFilter = { not: { department: 'Legal', or: [{ accountEnabled: false }, { jobTitle: 'Engineer' }] } };
    const compiled = compileUserFilter(filter)!;
    expect(compiled.advanced).toBe(true);
    expect(compiled.text).not.toMatch(/not \((?:[^()]|\([^()]*\))* (?:and|or) /);
    const res = await advanced({ $filter: compiled.text, $top: '999', $select: 'id,department,accountEnabled,jobTitle' });
    expect(res.status, res.text).toBe(200);
    const expected = c.users.filter((u) => !(u.department === 'Legal' && (!u.accountEnabled || u.jobTitle === 'Engineer')));
    expect((res.body.value as Array<{ id: string }>).map((u) => u.id).sort()).toEqual(expected.map((u) => u.id).sort());
  });

  it('$expand is not supported in advanced queries', async () => {
    const res = await advanced({ $expand: 'manager', $select: 'id' });
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
    expect((await list({ $expand: 'manager', $select: 'id', $top: '5' })).status).toBe(200);
  });
});

describe('per-property $filter support (aad-advanced-queries user table; the stricter cell of its published versions)', () => {
  it.each([
    'accountEnabled eq false',
    "userType eq 'Guest'",
    "employeeId eq '1'",
    'onPremisesSyncEnabled eq true',
    "state eq 'WA'",
    "startsWith(displayName,'A')",
    "startsWith(mail,'a')",
    "startsWith(userPrincipalName,'a')",
    "department eq 'Sales'",
    "department in ('Sales','IT')",
    "jobTitle eq 'Engineer'",
    "startsWith(jobTitle,'Eng')",
    'createdDateTime eq 2020-01-01T00:00:00Z',
    'createdDateTime ge 2020-01-01T00:00:00Z',
    'createdDateTime le 2020-01-01T00:00:00Z',
    "otherMails/any(m:startsWith(m,'a'))",
    "imAddresses/any(p:p eq 'a@contoso.example')",
    "imAddresses/any(p:startsWith(p,'a'))",
  ])('works by default: %s', async (filter) => {
    const res = await c.graph('GET', `/v1.0/users${filterQuery(filter, '&$select=id')}`);
    expect(res.status).toBe(200);
  });

  it.each([
    "preferredLanguage eq 'en-US'",
    "companyName eq 'Contoso'",
    "mobilePhone eq '+1 425 555 0100'",
    "startsWith(faxNumber,'+1')",
    "employeeType eq 'Contractor'",
    "onPremisesImmutableId eq 'x'",
    'onPremisesLastSyncDateTime ge 2020-01-01T00:00:00Z',
    'createdDateTime in (2020-01-01T00:00:00Z)',
    'createdDateTime eq null',
    'state eq null',
    "businessPhones/any(p:p eq '+1 425 555 0100')",
    "businessPhones/any(p:startsWith(p,'+1'))",
    "onPremisesExtensionAttributes/extensionAttribute1 eq 'x'",
  ])('advanced only: %s', async (filter) => {
    const refused = await c.graph('GET', `/v1.0/users${filterQuery(filter)}`);
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    const ok = await c.graph('GET', `/v1.0/users${filterQuery(filter, '&$count=true&$select=id')}`, { headers: EVENTUAL });
    expect(ok.status).toBe(200);
  });

  it.each([
    "startsWith(state,'W')",
    "startsWith(employeeId,'1')",
    "startsWith(employeeType,'C')",
    "startsWith(onPremisesExtensionAttributes/extensionAttribute1,'x')",
    "city ge 'A'",
    "otherMails/any(m:m ge 'a')",
    'accountEnabled eq null',
    'userPrincipalName eq null',
    'onPremisesImmutableId eq null',
    'userPrincipalName ne null',
  ])('not supported even as an advanced query (a blank or "not supported" cell in a version): %s', async (filter) => {
    const res = await c.graph('GET', `/v1.0/users${filterQuery(filter, '&$count=true')}`, { headers: EVENTUAL });
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
  });

  const GATEWAY_FILTERS: UserFilter[] = [
    { displayNameStartsWith: "O'" },
    { mailStartsWith: 'a' },
    { userPrincipalNameStartsWith: 'a' },
    { mailEndsWith: '.example' },
    { department: 'Sales' },
    { departmentIn: ['Sales', 'IT'] },
    { jobTitle: 'Engineer' },
    { accountEnabled: true },
    { userType: 'Guest' },
    { ids: ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'] },
    { companyName: 'Contoso' },
    { createdAfter: '2020-01-01T00:00:00Z' },
    { createdBefore: '2024-01-01T00:00:00Z' },
    { or: [{ department: 'Sales' }, { jobTitle: 'Engineer' }] },
    { not: { department: 'Sales' } },
  ];
  it.each(GATEWAY_FILTERS.map((f) => [JSON.stringify(f), f] as const))('the gateway classifies %s as Graph does', async (_label, filter) => {
    const compiled = compileUserFilter(filter)!;
    const plain = await list({ $filter: compiled.text, $select: 'id' });
    if (compiled.advanced) {
      expect(plain.status).toBe(400);
      expect(graphErrorCode(plain)).toBe('Request_UnsupportedQuery');
      expect((await advanced({ $filter: compiled.text, $select: 'id' })).status).toBe(200);
    } else {
      expect(plain.status).toBe(200);
    }
  });
});

describe('$orderby (user-list examples 4 and 5; aad-advanced-queries)', () => {
  it('displayName and userPrincipalName sort ascending by default, descending as an advanced query (microsoft-graph-docs#127), as the gateway sends them', async () => {
    for (const field of ['DISPLAY_NAME', 'USER_PRINCIPAL_NAME'] as const) {
      for (const direction of ['ASC', 'DESC'] as const) {
        const order = compileUserOrder({ field, direction } as UserOrder)!;
        expect(order.advancedAlone).toBe(direction === 'DESC');
        const query = { $orderby: order.text, $select: 'id,displayName,userPrincipalName', $top: '20' };
        const plain = await list(query);
        if (direction === 'DESC') {
          expect(plain.status).toBe(400);
          expect(graphErrorCode(plain)).toBe('Request_UnsupportedQuery');
        } else {
          expect(plain.status).toBe(200);
        }
        const res = order.advancedAlone ? await advanced(query) : plain;
        expect(res.status).toBe(200);
        const key = field === 'DISPLAY_NAME' ? 'displayName' : 'userPrincipalName';
        const values = res.body.value.map((u: Record<string, string>) => u[key]!.toLowerCase());
        const sorted = [...values].sort();
        expect(values).toEqual(direction === 'ASC' ? sorted : sorted.reverse());
      }
    }
  });

  it('descending order without $count=true is refused too: the header alone does not make it an advanced query', async () => {
    const res = await list({ $orderby: 'displayName desc', $select: 'id' }, EVENTUAL);
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
  });

  it('createdDateTime sorts only as an advanced query', async () => {
    const order = compileUserOrder({ field: 'CREATED_DATE_TIME', direction: 'DESC' } as UserOrder)!;
    expect(order.advancedAlone).toBe(true);
    const refused = await list({ $orderby: order.text });
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    expect((await advanced({ $orderby: order.text, $select: 'id' })).status).toBe(200);
  });

  it('$orderby with a $filter needs an advanced query', async () => {
    const query = { $orderby: 'displayName', $filter: "startsWith(displayName,'A')", $select: 'id' };
    const refused = await list(query);
    expect(refused.status).toBe(400);
    expect(graphErrorCode(refused)).toBe('Request_UnsupportedQuery');
    expect((await advanced(query)).status).toBe(200);
  });

  it('other properties cannot be sorted on, even in an advanced query', async () => {
    const res = await advanced({ $orderby: 'jobTitle' });
    expect(res.status).toBe(400);
    expect(graphErrorCode(res)).toBe('Request_UnsupportedQuery');
  });
});

const ids = () => c.users.map((u) => u.id);
const quoted = (values: string[]) => values.map((v) => `'${v}'`).join(',');
const filter = (text: string) => `/v1.0/users?$select=id&$filter=${encodeURIComponent(text)}`;
const ADVANCED = { headers: EVENTUAL };

describe('length limits (known issue 13635 "Some limitations apply to query parameters")', () => {
  it('regression: takes 15 `in` values and refuses 16 with Graph’s error (microsoft-graph-docs-contrib#1238)', async () => {
    const ok = await c.graph('GET', filter(`id in (${quoted(ids().slice(0, 15))})`));
    expect(ok.status).toBe(200);
    expect(ok.body.value).toHaveLength(15);
    const refused = await c.graph('GET', filter(`id in (${quoted(ids().slice(0, 16))})`));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('Request_UnsupportedQuery');
    expect(refused.body.error.message).toBe("Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.");
  });

  it('counts the whole clause: lists under an OR, side by side, and plain OR operands', async () => {
    const underOr = await c.graph('GET', filter(`id in (${quoted(ids().slice(0, 8))}) or id in (${quoted(ids().slice(8, 16))})`));
    expect(underOr.status).toBe(400);
    const sideBySide = await c.graph(
      'GET',
      filter(`id in (${quoted(ids().slice(0, 10))}) and accountEnabled eq true and id in (${quoted(ids().slice(5, 15))})`),
    );
    expect(sideBySide.status).toBe(400);
    expect(sideBySide.body.error.message).toContain(': 20.');
    const ors = Array.from({ length: 16 }, (_, i) => `startsWith(displayName,'${String.fromCharCode(65 + i)}')`).join(' or ');
    expect((await c.graph('GET', filter(ors))).status).toBe(400);
    expect((await c.graph('GET', filter(ors.split(' or ').slice(0, 15).join(' or ')))).status).toBe(200);
  });

  it('lifts the expression limit for an advanced query, which is bounded by its URL of 2,048 characters instead (the whole URL: microsoft-graph-docs PR #22097 review)', async () => {
    const forty = await c.graph('GET', `${filter(`id in (${quoted(ids().slice(0, 40))})`)}&$count=true`, ADVANCED);
    expect(forty.status).toBe(200);
    expect(forty.body.value).toHaveLength(40);
    const sixty = await c.graph('GET', `${filter(`id in (${quoted(ids().slice(0, 60))})`)}&$count=true`, ADVANCED);
    expect(sixty.status).toBe(400);
    expect(sixty.body.error.code).toBe('Request_UnsupportedQuery');
    expect(sixty.body.error.message).toMatch(/2048/);
  });

  it('regression: compares values of at most 120 characters in a default query, with eq and startsWith alike (startsWith: microsoft-graph-explorer-v4#2103)', async () => {
    for (const clause of [`displayName eq '${'a'.repeat(121)}'`, `startsWith(displayName,'${'a'.repeat(121)}')`]) {
      const res = await c.graph('GET', filter(clause));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'Request_UnsupportedQuery',
        message: "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'.",
      });
    }
    expect((await c.graph('GET', filter(`displayName eq '${'a'.repeat(120)}'`))).status).toBe(200);
    // Advanced queries apply the URL length instead of the value length.
    expect((await c.graph('GET', `${filter(`displayName eq '${'a'.repeat(200)}'`)}&$count=true`, ADVANCED)).status).toBe(200);
  });
});

describe('$search with an encoded ampersand (known issue 18185)', () => {
  const search = '/v1.0/users?$select=id,displayName&$search=' + encodeURIComponent('"displayName:Hiking&Recreation"');

  it('regression: fails on v1.0 with Graph’s 400 "Unrecognized query argument specified: \'\'." unless the request says Prefer: legacySearch=false', async () => {
    const legacy = await c.graph('GET', search, ADVANCED);
    expect(legacy.status).toBe(400);
    expect(legacy.body.error).toMatchObject({ code: 'Request_BadRequest', message: "Unrecognized query argument specified: ''." });
    const modern = await c.graph('GET', search, { headers: { ...EVENTUAL, prefer: 'legacySearch=false' } });
    expect(modern.status).toBe(200);
    expect((await c.graph('GET', search.replace('/v1.0/', '/beta/'), ADVANCED)).status).toBe(200);
  });

  it('fails the same way inside $batch', async () => {
    const res = await c.graph('POST', '/v1.0/$batch', {
      body: { requests: [{ id: '1', method: 'GET', url: search.replace('/v1.0', ''), headers: { ConsistencyLevel: 'eventual' } }] },
    });
    expect(res.body.responses[0].status).toBe(400);
  });

  it('leaves other searches alone', async () => {
    const plain = await c.graph('GET', '/v1.0/users?$select=id&$search=' + encodeURIComponent('"displayName:a"'), ADVANCED);
    expect(plain.status).toBe(200);
  });
});
