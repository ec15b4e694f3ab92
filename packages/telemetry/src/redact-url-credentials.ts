/**
 * Hides the password of every URL in a text: `redis://user:secret@host` → `redis://user:***@host`.
 * A URL's userinfo is everything between `scheme://` and the last `@` before the next whitespace
 * or quote (an unescaped `@` or `/` in a password must not leave its tail visible); a userinfo
 * without `:` is a bare username and is kept. Over-redacting a `host:port/path@x` that holds no
 * password is the accepted cost of never printing one. Pure.
 */
export function redactUrlCredentials(text: string): string {
  if (!text.includes("@")) return text;
  return text.replace(URL_TOKEN, (token, scheme: string, rest: string) => {
    const at = rest.lastIndexOf("@");
    if (at < 0) return token;
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    if (colon < 0) return token;
    return `${scheme}${userinfo.slice(0, colon)}:***${rest.slice(at)}`;
  });
}

/** `scheme://` followed by everything up to whitespace, a quote or a bracket. */
const URL_TOKEN = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s"'<>()[\]{}`]+)/g;
