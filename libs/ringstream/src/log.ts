/** The part of a pino logger the ring stream uses. */
export interface RingStreamLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}
