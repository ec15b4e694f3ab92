import type { User } from "@kubernetes/client-node";

/**
 * Whether a kubeconfig user gets its credentials by running a command — an exec plugin
 * (`users[].user.exec`) or an auth provider's `cmd-path` — and which one, in words for a
 * problem message; undefined when it runs nothing. Such a kubeconfig in a fleet file would let
 * whoever can edit that file (or the kubeconfig) run code in the fleet's services. Pure.
 */
export function describeCommandCredentials(user: User | undefined): string | undefined {
  if (user === undefined) return undefined;
  const exec = (user as { exec?: { command?: unknown } }).exec;
  if (exec !== undefined) {
    const command = typeof exec.command === "string" ? exec.command : "(no command)";
    return `users[].user.exec: ${command}`;
  }
  const config = (user as { authProvider?: { config?: Record<string, unknown> } }).authProvider
    ?.config;
  const cmdPath = config?.["cmd-path"];
  if (typeof cmdPath === "string" && cmdPath !== "") {
    return `users[].user.auth-provider.config.cmd-path: ${cmdPath}`;
  }
  return undefined;
}
