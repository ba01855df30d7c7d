/** Example operations preloaded as playground tabs: one per main use of the API. */
export interface PlaygroundExample {
  title: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface ExampleOptions {
  /** A user the profile example opens (sandbox: a manager with reports). */
  exampleUserId?: string;
}

export function playgroundExamples(options: ExampleOptions = {}): PlaygroundExample[] {
  return [
    {
      title: 'Directory page',
      query: `# A page of the directory: only the selected fields are fetched from Graph ($select),
# managers in the same request ($expand): one Graph request per page.
# No totalCount and no filter here: either one together with orderBy makes the list an advanced
# query, which cannot $expand, so the managers would cost extra requests (see README tips).
# Continue with: after: <pageInfo.endCursor>
query DirectoryPage($first: Int = 25, $after: String) {
  users(first: $first, after: $after, orderBy: { field: DISPLAY_NAME }) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      displayName
      jobTitle
      department
      mail
      manager { displayName }
    }
  }
}
`,
      variables: { first: 25 },
    },
    {
      title: 'Profile card',
      query: `# One user by object id or userPrincipalName, with manager and direct reports.
query ProfileCard($id: ID!) {
  user(id: $id) {
    id
    displayName
    jobTitle
    department
    officeLocation
    mail
    businessPhones
    manager { id displayName jobTitle }
    directReports(first: 10) {
      nodes { id displayName jobTitle }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`,
      variables: { id: options.exampleUserId ?? 'patti.fernandez@contoso.example' },
    },
    {
      title: 'Search',
      query: `# Graph $search: token matching on displayName, prefix matching on other properties.
query SearchPeople($text: String!) {
  users(first: 10, search: { text: $text }) {
    totalCount
    nodes { id displayName userPrincipalName department }
  }
}
`,
      variables: { text: 'adele' },
    },
    {
      title: 'Change feed',
      query: `# First call without a token: the full sync (kind FULL_SYNC, everyone in users). While
# complete is false, call again with deltaToken = nextDeltaToken to get the rest of it. Once
# complete, nextDeltaToken returns only what changed since (kind CHANGES, in changed and removed).
query UserChanges($deltaToken: String) {
  userChanges(deltaToken: $deltaToken) {
    kind
    complete
    users { id displayName accountEnabled }
    changed { id displayName accountEnabled }
    removed { id reason }
    nextDeltaToken
  }
}
`,
      variables: {},
    },
    {
      title: 'Security review',
      query: `# Groups, devices and registered authentication methods of one user.
query SecurityReview($id: ID!) {
  user(id: $id) {
    displayName
    memberOf(first: 20) { nodes { displayName securityEnabled } }
    ownedDevices(first: 10) { nodes { displayName operatingSystem trustType } }
    authenticationMethods {
      __typename
      type
      ... on PhoneAuthenticationMethod { phoneType }
      ... on Fido2AuthenticationMethod { model }
    }
  }
}
`,
      variables: { id: options.exampleUserId ?? 'patti.fernandez@contoso.example' },
    },
    {
      title: 'Contain an account',
      query: `# Incident response: revoke every sign-in session and block sign-in, in one Graph round trip.
# Self-deployed mode only (DEPLOYMENT_MODE=self-deployed; refused in hosted mode), and the caller
# needs the gateway permission Users.Terminate. Set userId to the compromised user's object id or
# userPrincipalName before running; every step is reported and audited. A step whose outcome is
# UNKNOWN may have been applied although Graph's answer never came: check the user, quote its
# clientRequestId, and never assume it failed.
mutation ContainAccount($userId: ID!) {
  terminateSession(input: { user: $userId, disableAccount: true }) {
    succeeded
    steps { step succeeded outcome requestId clientRequestId error { code message retryAfterSeconds } }
    user { id userPrincipalName accountEnabled }
  }
}
`,
      variables: { userId: '<object id or userPrincipalName>' },
    },
  ];
}
