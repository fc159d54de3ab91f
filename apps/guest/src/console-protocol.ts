// The console on the bus. Output: raw text on `xen.console.<domid>.out`. Input: `xen.console.<domid>.in`,
// each message one or more lines (a last line without "\n" counts). The recent output (the ring) is fetched
// by a REQUEST on the same `.in` subject carrying the header below: the guest answers with the ring's bytes
// in its reply, so it never publishes outside its own subjects and dom0 needs no subject of its own.
export { CONSOLE_OP_HEADER, CONSOLE_OP_RING } from '@dominion/bus';
/** Default bytes of output kept (xenconsoled keeps a similar few tens of KiB). */
export const CONSOLE_RING_BYTES = 16 * 1024;

/** The lines of one input message. */
export function inputLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
