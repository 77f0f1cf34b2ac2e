import { exclusive } from "./exclusive";
import type { PrismaClient } from "./client";

/** A stored API key: its lookup id and the hash of the whole key, never the key itself. */
export type ApiKeyRow = {
  id: string;
  name: string;
  role: string;
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

/** The `ApiKey` table. Hashing and roles are the API's business; this only stores and finds rows. */
export class ApiKeyStore {
  readonly #prisma: PrismaClient;

  constructor(prisma: PrismaClient) {
    this.#prisma = prisma;
  }

  /** Inserts a key unless a key not revoked already has that name; false then. */
  insert(row: Pick<ApiKeyRow, "id" | "name" | "role" | "hash">): Promise<boolean> {
    return exclusive(this.#prisma, () =>
      this.#prisma.$transaction(async (tx) => {
        const taken = await tx.apiKey.findFirst({ where: { name: row.name, revokedAt: null }, select: { id: true } });
        if (taken) return false;
        await tx.apiKey.create({ data: { ...row, createdAt: new Date() } });
        return true;
      }),
    );
  }

  /** The key with this lookup id, revoked or not; null when unknown. */
  find(id: string): Promise<ApiKeyRow | null> {
    return exclusive(this.#prisma, () => this.#prisma.apiKey.findUnique({ where: { id } }));
  }

  /** Every key, oldest first, revoked ones included. */
  list(): Promise<ApiKeyRow[]> {
    return exclusive(this.#prisma, () => this.#prisma.apiKey.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] }));
  }

  /** Revokes the key of that name that is not revoked yet; returns its lookup id, or null when there is none. */
  revoke(name: string): Promise<string | null> {
    return exclusive(this.#prisma, () =>
      this.#prisma.$transaction(async (tx) => {
        const active = await tx.apiKey.findFirst({ where: { name, revokedAt: null }, select: { id: true } });
        if (!active) return null;
        await tx.apiKey.update({ where: { id: active.id }, data: { revokedAt: new Date() } });
        return active.id;
      }),
    );
  }

  /** Records a use of the key. */
  touch(id: string, at: Date): Promise<void> {
    return exclusive(this.#prisma, async () => {
      await this.#prisma.apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
    });
  }
}
