/** What replaces a secret in anything stored or logged. */
export const REDACTED = "[REDACTED]";

/** Secrets recognised whatever the configuration. Each is replaced whole, a bearer token after its `Bearer `. */
const builtIn: readonly RegExp[] = [
  // OpenAI-style keys: sk-..., sk-proj-..., and the like of other vendors (sk-ant-...).
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // This API's keys.
  /\bwfk_[A-Za-z0-9_-]{16,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
  // PEM private key blocks; a block cut before its END line is redacted to the end of the text.
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)/g,
];
const bearerToken = /\b(Bearer[ \t]+)[A-Za-z0-9._~+/=-]{8,}/gi;
/**
 * What every built-in kind above contains (a superset, tested once): text without any of it skips their
 * replaces, which is nearly all text (every streamed delta passes here).
 */
const mayHoldBuiltIn = /sk-|wfk_|AKIA|ASIA|ABIA|ACCA|-----BEGIN |bearer[ \t]/i;

/** Deepest nesting redacted; deeper values are replaced whole (nothing legitimate nests this far). */
const MAX_DEPTH = 64;

/**
 * Replaces strings that look like secrets with `[REDACTED]`: the built-in kinds above plus `patterns`
 * (REDACT_PATTERNS). Applied to what is stored and logged, never to what the model receives.
 */
export class Redactor {
  readonly #configured: RegExp[];

  /** `patterns`: regular expression sources, e.g. `ghp_[A-Za-z0-9]{36}`. Throws SyntaxError for an invalid one. */
  constructor(patterns: readonly string[] = []) {
    this.#configured = patterns.map((p) => new RegExp(p, "g"));
  }

  text(value: string): string {
    let out = value;
    if (mayHoldBuiltIn.test(value)) {
      out = out.replace(bearerToken, `$1${REDACTED}`);
      for (const pattern of builtIn) out = out.replace(pattern, REDACTED);
    }
    for (const pattern of this.#configured) out = out.replace(pattern, REDACTED);
    return out;
  }

  /**
   * `value` with every string in it redacted (object keys are kept). Copy on write: the parts that held no
   * secret are shared with `value` (the whole of it when nothing was redacted); `value` is never changed.
   */
  deep<T>(value: T): T {
    return this.#deep(value, 0) as T;
  }

  #deep(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.text(value);
    if (typeof value !== "object" || value === null) return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) {
      const items: readonly unknown[] = value;
      let out: unknown[] | undefined;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const redacted = this.#deep(item, depth + 1);
        if (out) out.push(redacted);
        else if (redacted !== item) out = [...items.slice(0, i), redacted];
      }
      return out ?? value;
    }
    // Keys, not entries: every event passes here, and entries made an array per key.
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = record[key];
      const redacted = this.#deep(item, depth + 1);
      if (!out) {
        if (redacted === item) continue;
        out = {};
        for (let j = 0; j < i; j++) define(out, keys[j]!, record[keys[j]!]);
      }
      define(out, key, redacted);
    }
    return out ?? value;
  }
}

/** Sets a key as data, even one named `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
