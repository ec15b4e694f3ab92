/** The log calls the applier makes (a pino logger fits it). */
export interface ApplierLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
