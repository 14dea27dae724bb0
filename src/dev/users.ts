import { guidFrom } from "./ids.js";

/** A test user the development identity provider signs in (listed on its consent page). */
export interface DevUser {
  /** Short login name that picks the user: `paved token --user alice`, `mintToken({ user: "alice" })`. */
  readonly id: string;
  /** Display name (`name` claim). Default: `id` with a capital first letter. */
  readonly name?: string;
  /** Sign-in name (`preferred_username`, v1 `upn`). Default: `<id>@paved.test`. */
  readonly username?: string;
  /** Object ID (`oid`), a GUID. Default: derived from the tenant and `id`, stable across restarts. */
  readonly objectId?: string;
  /** App roles assigned to the user (`roles` in their tokens). Default: none. */
  readonly roles?: readonly string[];
}

/** A user with every claim source filled in, for one tenant. */
export interface ResolvedUser {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  readonly objectId: string;
  readonly roles: readonly string[];
}

/** Default test users: two, so tests can tell users apart (sessions and rate limits key on `tid` + `oid`). */
export const DEFAULT_DEV_USERS: readonly DevUser[] = Object.freeze([
  { id: "alice", name: "Alice Developer" },
  { id: "bob", name: "Bob Tester" },
]);

/** Fills in a user's defaults; an unknown login name becomes a user of that name (handy for `paved token --user carol`). */
export function resolveUser(
  user: string | DevUser,
  tenantId: string,
  known: readonly DevUser[] = DEFAULT_DEV_USERS,
): ResolvedUser {
  const given =
    typeof user === "string" ? (known.find((candidate) => candidate.id === user) ?? { id: user }) : user;
  return {
    id: given.id,
    name: given.name ?? given.id.charAt(0).toUpperCase() + given.id.slice(1),
    username: given.username ?? `${given.id}@paved.test`,
    objectId: (given.objectId ?? guidFrom("user", tenantId.toLowerCase(), given.id)).toLowerCase(),
    roles: [...(given.roles ?? [])],
  };
}
