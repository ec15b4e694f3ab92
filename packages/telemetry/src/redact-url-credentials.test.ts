import { describe, expect, it } from "vitest";
import { redactUrlCredentials } from "./redact-url-credentials.js";

describe("redactUrlCredentials", () => {
  const rows = [
    {
      name: "a Redis URL with an ACL user keeps the user",
      text: "redis://rrfleet:s3cret@redis:6379/0",
      want: "redis://rrfleet:***@redis:6379/0",
    },
    {
      name: "a password without a user",
      text: "rediss://:s3cret@redis:6380",
      want: "rediss://:***@redis:6380",
    },
    {
      name: "an unescaped @ and / in the password",
      text: "redis://u:p@ss/w@rd@host:6379",
      want: "redis://u:***@host:6379",
    },
    {
      name: "inside a sentence, quoted, several times",
      text: 'cannot connect to "redis://a:x@h1" nor redis://b:y@h2: refused',
      want: 'cannot connect to "redis://a:***@h1" nor redis://b:***@h2: refused',
    },
    {
      name: "a bare username is no secret",
      text: "redis://rrfleet@redis",
      want: "redis://rrfleet@redis",
    },
    { name: "a URL without userinfo", text: "redis://redis:6379/0", want: "redis://redis:6379/0" },
    {
      name: "an e-mail address is no URL",
      text: "ask ops@example.com",
      want: "ask ops@example.com",
    },
  ] as const;
  for (const row of rows) {
    it(row.name, () => {
      expect(redactUrlCredentials(row.text)).toBe(row.want);
    });
  }
});
