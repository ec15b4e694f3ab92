/**
 * Kubernetes label key and value rules (apimachinery `IsQualifiedName` and `IsValidLabelValue`).
 * Each check returns the first problem found as one line, or undefined when the input is valid.
 */

const NAME_MAX_LENGTH = 63;
const PREFIX_MAX_LENGTH = 253;
const VALUE_MAX_LENGTH = 63;

/** A qualified name's name part, and a non-empty label value. */
const NAME_PATTERN = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 subdomain: dot-separated lowercase labels, each starting and ending alphanumeric. */
const DNS_1123_SUBDOMAIN_PATTERN =
  /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

const NAME_CHARACTERS =
  "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Decides whether `key` is a valid Kubernetes label key (`[prefix/]name`); returns the problem, or undefined when valid. Never throws. */
export function validateLabelKey(key: string): string | undefined {
  const slash = key.indexOf("/");
  let name = key;
  if (slash !== -1) {
    if (key.indexOf("/", slash + 1) !== -1) {
      return 'must be a name with an optional DNS subdomain prefix and "/", and contain at most one "/"';
    }
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0) {
      return "prefix part must be non-empty";
    }
    if (prefix.length > PREFIX_MAX_LENGTH) {
      return `prefix part must be no more than ${PREFIX_MAX_LENGTH} characters`;
    }
    if (!DNS_1123_SUBDOMAIN_PATTERN.test(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', with each '.'-separated part starting and ending with an alphanumeric character";
    }
  }
  if (name.length === 0) {
    return "name part must be non-empty";
  }
  if (name.length > NAME_MAX_LENGTH) {
    return `name part must be no more than ${NAME_MAX_LENGTH} characters`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `name part must ${NAME_CHARACTERS}`;
  }
  return undefined;
}

/** Decides whether `value` is a valid Kubernetes label value (empty is valid); returns the problem, or undefined when valid. Never throws. */
export function validateLabelValue(value: string): string | undefined {
  if (value.length === 0) {
    return undefined;
  }
  if (value.length > VALUE_MAX_LENGTH) {
    return `must be no more than ${VALUE_MAX_LENGTH} characters`;
  }
  if (!NAME_PATTERN.test(value)) {
    return `must be empty or ${NAME_CHARACTERS}`;
  }
  return undefined;
}
