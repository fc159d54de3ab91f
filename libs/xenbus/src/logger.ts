/** Where the handshake reports what it did and what went wrong; fields name domains, paths and states. */
export type XenbusLogger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export const silentLogger: XenbusLogger = () => undefined;
