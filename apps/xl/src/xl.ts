// xl's main(): the subcommand dispatch of tools/xl/xl.c. No subcommand prints the command list and
// fails; `help [cmd]` succeeds; an unknown one is "command not implemented".
import { helpText } from './command-table.js';
import { COMMAND_FNS, XlExit, type Io, type XlSession } from './commands.js';

export async function runXl(argv: readonly string[], connect: () => Promise<XlSession>, io: Io): Promise<number> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) {
    io.out(helpText());
    return 1;
  }
  if (cmd === 'help' || cmd === '-h' || cmd === '--help') {
    io.out(helpText(args[0]));
    return 0;
  }
  const fn = COMMAND_FNS[cmd];
  if (!fn) {
    io.err('command not implemented\n');
    return 1;
  }
  try {
    const session = await connect();
    await fn(session.hv, args, io, session.toolstack, session);
    return 0;
  } catch (e) {
    if (e instanceof XlExit) return e.code;
    throw e;
  }
}
