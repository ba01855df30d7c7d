import { readFileSync, statSync } from 'node:fs';
import { SECRET_FILE_VARIABLES, type ConfigVariable } from './variables.js';

/** A secret file larger than this is a mistake (a wrong path), not a key: it is not read. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Reads a secret file; throws with a reason that never contains the file's content. */
export type SecretFileReader = (path: string) => string;

const readSecretFile: SecretFileReader = (path) => {
  const size = statSync(path).size;
  if (size > MAX_SECRET_FILE_BYTES) throw new Error(`the file holds ${size} bytes, more than a secret (at most ${MAX_SECRET_FILE_BYTES})`);
  return readFileSync(path, 'utf8');
};

/**
 * Reads one environment for loadConfig: trimmed values (blank counts as unset) and typed readers
 * that, instead of throwing, record each problem (naming the variable, its purpose and an example)
 * so every problem is reported at once.
 */
export class EnvReader {
  readonly problems: string[] = [];
  /** Secrets read from files, once each (the same variable is read by several parts of loadConfig). */
  readonly #fromFiles = new Map<ConfigVariable, string | undefined>();

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly readFile: SecretFileReader = readSecretFile,
  ) {}

  get(name: ConfigVariable): string | undefined {
    const value = this.plain(name);
    const fileVariable = (SECRET_FILE_VARIABLES as Partial<Record<ConfigVariable, ConfigVariable>>)[name];
    if (fileVariable === undefined) return value;
    const file = this.plain(fileVariable);
    if (file === undefined) return value;
    if (this.#fromFiles.has(name)) return this.#fromFiles.get(name);
    let fromFile: string | undefined;
    if (value !== undefined) {
      this.problem(`${name} and ${fileVariable} are both set: set the secret one way, in the variable or in the file ${fileVariable} names`);
      fromFile = value;
    } else {
      try {
        const text = this.readFile(file).trim();
        if (text === '') this.problem(`${fileVariable}=${JSON.stringify(file)} names an empty file: it should hold ${name}`);
        else fromFile = text;
      } catch (error) {
        // The reason, never the content: a secret file that is not what was meant may still be a secret.
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        this.problem(`${fileVariable}=${JSON.stringify(file)} cannot be read (${reason}): it should name a file holding ${name}`);
      }
    }
    this.#fromFiles.set(name, fromFile);
    return fromFile;
  }

  private plain(name: ConfigVariable): string | undefined {
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
      this.problem(`${name}=${JSON.stringify(withoutUserinfo(v))} is not valid: ${purpose}; an https URL (e.g. ${name}=${example})`);
      return undefined;
    }
  }
}

/**
 * A URL-like value as a problem may quote it: everything up to its last `@` (user, password) is
 * `[redacted]`. Up to the first `@` after `//` was not enough: a password with a `/` in it (base64
 * has them) or a value without `//` (`:password@redis:6379`) was quoted whole.
 */
export function withoutUserinfo(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const slashes = value.indexOf('//');
  const prefix = slashes >= 0 && slashes < at ? value.slice(0, slashes + 2) : '';
  return `${prefix}[redacted]${value.slice(at)}`;
}

/** A comma-separated value as its non-empty, trimmed entries. */
export function commaSeparated(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
