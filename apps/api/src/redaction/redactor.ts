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

/** Deepest nesting redacted; deeper values are replaced whole (nothing legitimate nests this far). */
const MAX_DEPTH = 64;

/**
 * Replaces strings that look like secrets with `[REDACTED]`: the built-in kinds above plus `patterns`
 * (REDACT_PATTERNS). Applied to what is stored and logged, never to what the model receives.
 */
export class Redactor {
  readonly #patterns: RegExp[];

  /** `patterns`: regular expression sources, e.g. `ghp_[A-Za-z0-9]{36}`. Throws SyntaxError for an invalid one. */
  constructor(patterns: readonly string[] = []) {
    this.#patterns = [...builtIn, ...patterns.map((p) => new RegExp(p, "g"))];
  }

  text(value: string): string {
    let out = value.replace(bearerToken, `$1${REDACTED}`);
    for (const pattern of this.#patterns) out = out.replace(pattern, REDACTED);
    return out;
  }

  /** A copy of `value` with every string in it redacted (object keys are kept). */
  deep<T>(value: T): T {
    return this.#deep(value, 0) as T;
  }

  #deep(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.text(value);
    if (typeof value !== "object" || value === null) return value;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) return value.map((v) => this.#deep(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: this.#deep(v, depth + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
}
