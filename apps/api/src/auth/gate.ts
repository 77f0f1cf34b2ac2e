import type { IncomingMessage } from "node:http";
import { TRPCError } from "@trpc/server";
import type { ApiKeys } from "./apiKeys";
import { RateLimiter } from "./rateLimit";
import { allows, LOCAL_CALLER, type Access, type Caller } from "./roles";

export type AuthConfig = {
  /** `keys`: every call but `public` ones needs a key. `none`: every caller is `local`, with every right. */
  mode: "none" | "keys";
  /** Calls per minute per key (per `local` without keys); null: no limit. */
  rateLimitPerMin: number | null;
  /** How often an open subscription re-reads its key, to end once another process revoked it. */
  revocationCheckMs: number;
};

/** A call refused by the rate limit; `retryAfterMs` says when the next one will pass. */
export class RateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    perMinute: number,
  ) {
    super(`Rate limit of ${perMinute} calls per minute reached; retry in ${Math.ceil(retryAfterMs / 1000)} s.`);
    this.name = new.target.name;
  }
}

const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const REVOKED = Symbol("revoked");

/**
 * The one place that decides whether a call may run: who calls (the key from `Authorization: Bearer`
 * or the `authorization` connection param), whether their role covers the procedure's `access`, and
 * whether their rate budget allows it. Throws UNAUTHORIZED, FORBIDDEN or TOO_MANY_REQUESTS.
 */
export class Gate {
  readonly config: AuthConfig;
  readonly #keys: ApiKeys;
  readonly #limiter: RateLimiter | null;

  constructor(keys: ApiKeys, config: AuthConfig) {
    this.config = config;
    this.#keys = keys;
    this.#limiter = config.rateLimitPerMin === null ? null : new RateLimiter(config.rateLimitPerMin);
  }

  async admit(authorization: string | null, access: Access): Promise<Caller> {
    if (access === "public") return this.config.mode === "none" ? LOCAL_CALLER : { name: "anonymous", role: "viewer", keyId: null };
    const caller = this.config.mode === "none" ? LOCAL_CALLER : await this.#authenticate(authorization);
    if (!allows(caller.role, access)) throw new TRPCError({ code: "FORBIDDEN", message: `This call needs the ${access} role; key "${caller.name}" has ${caller.role}.` });
    if (this.#limiter) {
      const decision = this.#limiter.take(caller.name);
      if (!decision.allowed) {
        const cause = new RateLimitedError(decision.retryAfterMs, this.config.rateLimitPerMin ?? 0);
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: cause.message, cause });
      }
    }
    return caller;
  }

  /** Whether a plain HTTP request (not a procedure: `/metrics`) may pass: its `Authorization` header admitted for `access`. */
  async admitsRequest(req: Pick<IncomingMessage, "headers">, access: Access): Promise<boolean> {
    const header = req.headers.authorization;
    return this.admit(typeof header === "string" ? header : null, access).then(
      () => true,
      () => false,
    );
  }

  /** `source`, ended with UNAUTHORIZED once the caller's key is revoked (no-op for callers without a key). */
  endWhenRevoked<T>(source: AsyncIterable<T>, caller: Caller): AsyncIterable<T> {
    const keyId = caller.keyId;
    if (keyId === null) return source;
    const keys = this.#keys;
    const intervalMs = this.config.revocationCheckMs;
    return (async function* () {
      const iterator = source[Symbol.asyncIterator]();
      let revoked = false;
      // Wakes the pending `next` with REVOKED. One resolver per call: racing every `next` against one
      // long-lived promise would leave a reaction on it per event for as long as the subscription lives.
      let interrupt: (() => void) | null = null;
      const onRevoked = () => {
        revoked = true;
        interrupt?.();
      };
      const unsubscribe = keys.onRevoked((id) => id === keyId && onRevoked());
      const timer = setInterval(() => void keys.isActive(keyId).then((active) => active || onRevoked(), () => undefined), intervalMs);
      try {
        for (;;) {
          const next = revoked
            ? REVOKED
            : await new Promise<IteratorResult<T> | typeof REVOKED>((resolve, reject) => {
                interrupt = () => resolve(REVOKED);
                iterator.next().then(resolve, reject);
              });
          interrupt = null;
          if (next === REVOKED) throw new TRPCError({ code: "UNAUTHORIZED", message: "The API key was revoked." });
          if (next.done) return;
          yield next.value;
        }
      } finally {
        unsubscribe();
        clearInterval(timer);
        // Not awaited: a source waiting for its next value finishes its cleanup when it wakes.
        void iterator.return?.(undefined)?.catch(() => undefined);
      }
    })();
  }

  async #authenticate(authorization: string | null): Promise<Caller> {
    if (authorization === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "An API key is required: send `Authorization: Bearer <key>`." });
    const key = bearer.exec(authorization)?.[1];
    if (!key) throw new TRPCError({ code: "UNAUTHORIZED", message: "The Authorization header must be `Bearer <key>`." });
    const found = await this.#keys.authenticate(key);
    if (!found) throw new TRPCError({ code: "UNAUTHORIZED", message: "The API key is unknown or revoked." });
    return { name: found.name, role: found.role, keyId: found.id };
  }
}
