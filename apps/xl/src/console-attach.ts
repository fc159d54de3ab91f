// The attached session of `xl console`: the ring first, then live output, while stdin goes to the guest
// until the escape character or the end of input.
import type { ConsoleLink } from './console-link.js';
import { ConsoleLineEditor } from './console-input.js';

/** After the end of piped input: output quiet this long means the guest has answered... */
const QUIET_MS = 300;
/** ...but never wait longer than this. */
const DRAIN_MAX_MS = 2000;

export interface ConsoleStdin extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  destroy(): unknown;
}

export async function attachConsole(
  link: ConsoleLink,
  domid: number,
  escape: number,
  stdin: ConsoleStdin,
  write: (text: string) => void,
): Promise<void> {
  let lastOutput = Date.now();
  const session = await link(domid, {
    ring: write,
    output: (t) => {
      lastOutput = Date.now();
      write(t);
    },
  });
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const editor = new ConsoleLineEditor(escape, raw);
  if (raw) stdin.setRawMode!(true);
  let sending = Promise.resolve();
  const send = (lines: string[]): void => {
    if (lines.length > 0) sending = sending.then(() => session.send(lines.join('')));
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        sending.then(resolve, reject);
      };
      const onData = (d: Buffer): void => {
        const step = editor.feed(d);
        if (step.echo) write(step.echo);
        send(step.send);
        if (step.detach) finish();
      };
      const onEnd = (): void => {
        const rest = editor.end();
        if (rest) send([rest]);
        sending = sending.then(async () => {
          lastOutput = Date.now();
          const deadline = lastOutput + DRAIN_MAX_MS;
          while (Date.now() - lastOutput < QUIET_MS && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
          }
        });
        finish();
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.once('error', reject);
    });
  } finally {
    if (raw) stdin.setRawMode!(false);
    // A paused stdin would still hold the process open.
    stdin.destroy();
    session.close();
  }
}
