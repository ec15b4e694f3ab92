/** IPv4 helpers for route-reflector cluster IDs (Calico ignores an invalid ID silently). */

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a dotted-quad IPv4 address to an unsigned 32-bit integer, or undefined if invalid. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Formats an unsigned 32-bit integer as a dotted-quad IPv4 address. */
export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Whether `text` is a cluster ID Calico accepts and rrfleet will use: IPv4, not 0.0.0.0. */
export function isValidClusterId(text: string | undefined): text is string {
  if (text === undefined) return false;
  const value = parseIpv4(text);
  return value !== undefined && value !== 0;
}
