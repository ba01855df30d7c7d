/**
 * The doctor's findings: one `Check` per line, rendered as text for a person or JSON for
 * automation. Nothing in a check can hold a token, secret or password: checks are built from
 * permission names, role names, statuses and Graph request-ids only.
 */
export type CheckStatus = 'ok' | 'missing' | 'failed' | 'skipped' | 'not-available' | 'unchecked';

/** A Graph permission to grant on the app registration. */
export interface GrantAdvice {
  permission: string;
  type: 'Application' | 'Delegated';
  adminConsent: boolean;
}

export interface Check {
  /** Stable id for automation, e.g. `token`, `feature:terminateSession`, `role:changePassword`, `probe:batch`, `write:re-enable`. */
  id: string;
  status: CheckStatus;
  /** The whole finding in one line: what, why, and what to do. */
  message: string;
  grant?: GrantAdvice[];
  /** Entra roles to assign (to the app's service principal, or the signed-in user). */
  assignRoles?: string[];
  httpStatus?: number;
  requestId?: string;
  /** Printed last and loudest: the doctor left the tenant in a changed state. */
  critical?: boolean;
}

export interface DoctorReport {
  checks: Check[];
  exitCode: number;
}

const LABEL: Record<CheckStatus, string> = {
  ok: 'ok',
  missing: 'missing',
  failed: 'failed',
  skipped: 'skipped',
  'not-available': 'not available',
  unchecked: 'could not check',
};

/** Non-zero when something the configuration enables would fail; "could not check" is not a failure. */
export function exitCodeOf(checks: readonly Check[]): number {
  return checks.some((c) => c.status === 'missing' || c.status === 'failed') ? 1 : 0;
}

export function grantText(grant: readonly GrantAdvice[]): string {
  return grant.map((g) => `${g.permission} (${g.type.toLowerCase()} permission${g.adminConsent ? ', then grant admin consent' : ''})`).join(' and ');
}

export function renderText(report: DoctorReport): string {
  const width = Math.max(...Object.values(LABEL).map((l) => l.length)) + 2;
  const ordinary = report.checks.filter((c) => !c.critical);
  const critical = report.checks.filter((c) => c.critical);
  const lines = ordinary.map((c) => `${LABEL[c.status].padEnd(width)}${c.message}`);
  for (const c of critical) lines.push(`!!! ${LABEL[c.status].toUpperCase()}: ${c.message} !!!`);
  const failures = report.checks.filter((c) => c.status === 'missing' || c.status === 'failed').length;
  lines.push(
    failures === 0
      ? 'Result: everything this configuration enables should work.'
      : `Result: ${failures} check(s) show what this configuration enables would fail; fix the lines marked missing or failed, then run the doctor again.`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify({ exitCode: report.exitCode, ok: report.exitCode === 0, checks: report.checks }, null, 2)}\n`;
}
