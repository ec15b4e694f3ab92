/** A user that authenticates with a bearer token from the static token file. */
export interface TokenUser {
  readonly name: string;
  readonly token: string;
  /** Groups the token file grants, e.g. `system:masters`; default none. */
  readonly groups?: readonly string[];
}

/**
 * Renders the static `--token-auth-file` of kube-apiserver: `token,user,uid,"group1,group2"`.
 * Throws on a token, name or group that the CSV format cannot carry.
 */
export function renderTokenFile(users: readonly TokenUser[]): string {
  return users
    .map((user) => {
      for (const field of [user.token, user.name, ...(user.groups ?? [])]) {
        if (field === "" || /[,"\s]/.test(field)) {
          throw new Error(
            `token file field ${JSON.stringify(field)} must be non-empty, without commas, quotes or spaces`,
          );
        }
      }
      const groups = user.groups ?? [];
      return `${user.token},${user.name},uid-${user.name}${groups.length > 0 ? `,"${groups.join(",")}"` : ""}\n`;
    })
    .join("");
}
