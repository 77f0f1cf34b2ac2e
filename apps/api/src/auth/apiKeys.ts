import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { ApiKeyStore } from "@workflows/db";
import { z } from "zod";
import { limits } from "../limits";
import { roleSchema, type Role } from "./roles";

export const KEY_PREFIX = "wfk_";
/** 32 random bytes (256 bits) as base64url. */
const KEY_BODY_LENGTH = 43;
/** The first characters of the body are the key's lookup id, stored in clear; the other 31 (~186 bits) stay secret. */
const LOOKUP_LENGTH = 12;
const keyPattern = new RegExp(`^${KEY_PREFIX}[A-Za-z0-9_-]{${KEY_BODY_LENGTH}}$`);

/** scrypt cost: about 30-60 ms per check, paid once per key and process (verified keys are remembered). */
const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 } as const;

/** A key name as given to `keys create`: what audit records show. */
export const keyNameSchema = z
  .string()
  .min(1, "name must not be empty")
  .max(limits.keyNameChars, `name must be at most ${limits.keyNameChars} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "name may hold letters, digits and . _ @ - (starting with a letter or digit)")
  .refine((n) => n !== "local", { message: '"local" is reserved for calls without keys' });

export const apiKeyInfoSchema = z.object({
  name: z.string(),
  role: roleSchema,
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

/** A key name already used by a key that is not revoked. */
export class KeyNameTakenError extends Error {
  constructor(readonly keyName: string) {
    super(`A key named "${keyName}" exists; revoke it first or pick another name.`);
    this.name = new.target.name;
  }
}

/** No key of that name is active. */
export class KeyNotFoundError extends Error {
  constructor(readonly keyName: string) {
    super(`No active key is named "${keyName}".`);
    this.name = new.target.name;
  }
}

export type AuthenticatedKey = { id: string; name: string; role: Role };

function scrypt(secret: string, salt: Buffer, opts: ScryptOptions & { keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(secret, salt, opts.keylen, { N: opts.N, r: opts.r, p: opts.p, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));
}

async function hashKey(key: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(key, salt, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

async function verifyKey(key: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(key, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p), keylen: expected.length });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const digest = (key: string) => createHash("sha256").update(key).digest("hex");
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** Only refresh `lastUsedAt` this often per key: a write per call would be a cost for nothing. */
const TOUCH_EVERY_MS = 60_000;

/**
 * API keys: created with a slow hash stored (the key is returned once), listed without secrets,
 * revoked by name. `authenticate` reads the key's row on every call, so a revocation made by any
 * process on the same database holds from the next call on.
 */
export class ApiKeys {
  readonly #store: ApiKeyStore;
  /** Keys this process verified with scrypt, by lookup id: a sha256 of the key, kept in memory only. */
  readonly #verified = new Map<string, string>();
  readonly #revokedListeners = new Set<(keyId: string) => void>();

  constructor(store: ApiKeyStore) {
    this.#store = store;
  }

  /** Makes a key; the returned `key` is the only time it exists outside the caller's hands. */
  async create(name: string, role: Role): Promise<{ key: string; info: ApiKeyInfo }> {
    keyNameSchema.parse(name);
    const key = KEY_PREFIX + randomBytes(32).toString("base64url");
    const id = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + LOOKUP_LENGTH);
    if (!(await this.#store.insert({ id, name, role, hash: await hashKey(key) }))) throw new KeyNameTakenError(name);
    const row = await this.#store.find(id);
    return { key, info: { name, role, createdAt: (row?.createdAt ?? new Date()).toISOString(), lastUsedAt: null, revokedAt: null } };
  }

  /** Every key, revoked ones included; never a secret. */
  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.#store.list();
    return rows.map((r) => ({ name: r.name, role: roleSchema.parse(r.role), createdAt: r.createdAt.toISOString(), lastUsedAt: iso(r.lastUsedAt), revokedAt: iso(r.revokedAt) }));
  }

  /** Revokes the active key of that name; its open subscriptions in this process end at once, elsewhere within the check interval. */
  async revoke(name: string): Promise<void> {
    const id = await this.#store.revoke(name);
    if (id === null) throw new KeyNotFoundError(name);
    this.#verified.delete(id);
    for (const listener of this.#revokedListeners) listener(id);
  }

  /** The key's name and role, or null for a malformed, unknown or revoked key. */
  async authenticate(key: string): Promise<AuthenticatedKey | null> {
    if (!keyPattern.test(key)) return null;
    const id = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + LOOKUP_LENGTH);
    const row = await this.#store.find(id);
    if (!row || row.revokedAt !== null) return null;
    const seen = digest(key);
    if (this.#verified.get(id) !== seen) {
      if (!(await verifyKey(key, row.hash))) return null;
      this.#verified.set(id, seen);
    }
    const role = roleSchema.safeParse(row.role);
    if (!role.success) return null;
    const now = new Date();
    if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) await this.#store.touch(id, now);
    return { id, name: row.name, role: role.data };
  }

  /** True while the key with this lookup id exists and is not revoked. */
  async isActive(keyId: string): Promise<boolean> {
    const row = await this.#store.find(keyId);
    return row !== null && row.revokedAt === null;
  }

  /** Calls `listener` with the lookup id of each key revoked through this process. Returns the unsubscribe function. */
  onRevoked(listener: (keyId: string) => void): () => void {
    this.#revokedListeners.add(listener);
    return () => this.#revokedListeners.delete(listener);
  }
}
