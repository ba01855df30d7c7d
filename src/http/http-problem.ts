/** A refusal at the HTTP level, before GraphQL: its status, public code and `reason`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
    /** Response headers the refusal names (e.g. `accept-encoding` with a 415). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
