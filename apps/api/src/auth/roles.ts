import { z } from "zod";

/** What a key may do; each role includes the ones before it. */
export const roleSchema = z.enum(["viewer", "operator", "admin"]);
export type Role = z.infer<typeof roleSchema>;

/** The access a procedure requires, stated next to its definition (`.meta({ access })`). `public` needs no key. */
export type Access = "public" | Role;

const rank: Record<Access, number> = { public: 0, viewer: 1, operator: 2, admin: 3 };

export const allows = (role: Role, needed: Access): boolean => rank[role] >= rank[needed];

/** Who makes a call: a key's name and role, or `local` (every right) when the API runs without keys. */
export type Caller = { name: string; role: Role; keyId: string | null };

export const LOCAL_CALLER: Caller = { name: "local", role: "admin", keyId: null };
