import type { ConfigVariable } from './variables.js';

/**
 * Reads one environment for loadConfig: trimmed values (blank counts as unset) and typed readers
 * that, instead of throwing, record each problem (naming the variable, its purpose and an example)
 * so every problem is reported at once.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  get(name: ConfigVariable): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  oneOf<T extends string>(name: ConfigVariable, allowed: readonly T[], fallback: T, purpose: string): T {
    const v = this.get(name);
    if (v === undefined) return fallback;
    const match = allowed.find((a) => a === v);
    if (match !== undefined) return match;
    this.problem(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; one of ${allowed.join(', ')} (e.g. ${name}=${allowed[0]})`);
    return fallback;
  }

  int(name: ConfigVariable, fallback: number, min: number, max: number, purpose: string): number {
    const v = this.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problem(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; a whole number from ${min} to ${max} (e.g. ${name}=${fallback})`);
      return fallback;
    }
    return n;
  }

  bool(name: ConfigVariable, fallback: boolean, purpose: string): boolean {
    const v = this.get(name);
    if (v === undefined) return fallback;
    if (['true', '1', 'yes'].includes(v.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(v.toLowerCase())) return false;
    this.problem(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; true or false (e.g. ${name}=${fallback})`);
    return fallback;
  }

  /** An https URL without trailing slashes, or undefined (unset, or recorded as a problem). */
  httpsUrl(name: ConfigVariable, purpose: string, example: string): string | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (u.protocol !== 'https:') throw new Error('not https');
      return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
    } catch {
      this.problem(`${name}=${JSON.stringify(v)} is not valid: ${purpose}; an https URL (e.g. ${name}=${example})`);
      return undefined;
    }
  }
}

/** A comma-separated value as its non-empty, trimmed entries. */
export function commaSeparated(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
