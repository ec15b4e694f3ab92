/** Whether `err` is a Node.js system error carrying a `code` such as `ENOENT`. */
export function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && "code" in err;
}
