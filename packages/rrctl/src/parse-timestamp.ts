const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;

/**
 * Parses an ISO 8601 timestamp with a time zone (`2026-11-28T00:00:00Z`,
 * `2026-11-28T01:00:00.5+01:00`) to a Date; undefined for anything else, including impossible
 * calendar dates (`2026-02-30`) that `new Date()` would silently roll over. No local-time forms:
 * the same argument must mean the same instant on every machine.
 */
export function parseTimestamp(text: string): Date | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = "0", fraction = "", zulu, sign, offsetH = "0", offsetM = "0"] =
    match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [offsetHours, offsetMinutes] = [Number(offsetH), Number(offsetM)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return undefined;
  }
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  const offset =
    zulu === undefined ? (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) : 0;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute - offset, second, millis);
  return utc;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}
