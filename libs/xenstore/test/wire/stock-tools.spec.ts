/*
 * Bytes sent by Debian's stock xenstore-utils (4.17.7+13-g2445b30a44-0+deb12u1, libxenstore4 of the same
 * version) to the socket named by XENSTORED_PATH. Each tool below runs against a small canned xenstored on a
 * temporary Unix socket; what it sent was captured once and frozen here as annotated hex, and every run checks
 * that the live tool still sends exactly those bytes. Our parser must decode them, our request builders must
 * reproduce them, and the tools must accept our encoded replies (they print what they read).
 *
 * What the captures show (for the xenstored that serves these tools):
 * - req_id is always 0: libxenstore sends one request at a time and never sets req_id (tools/libs/store/xs.c).
 *   It also drops the connection (EBADF) if a reply's type is neither the request's nor XS_ERROR, and refuses
 *   replies whose len exceeds 4096.
 * - One bare request, tx_id 0, no transaction: `xenstore-read <path>`, `xenstore-write <path> <value>`,
 *   `xenstore-ls` (all of it) and `xenstore-watch`.
 * - Wrapped in TRANSACTION_START (payload "\0", tx_id 0) ... TRANSACTION_END (tx_id = the id we answered):
 *   `xenstore-rm`, `xenstore-exists`, `xenstore-list`, `xenstore-chmod`, and `xenstore-read`/`-write` with several
 *   paths. The tools copy the id from our decimal reply into tx_id. END is "T\0" (commit) on success; on an
 *   error inside the transaction the tool sends END "F\0" (abort): `xenstore-exists` of a missing node reads
 *   ENOENT, aborts and exits 1. An EAGAIN answer to END makes the tool redo the whole transaction from
 *   TRANSACTION_START. So a socket xenstored must implement transactions for these tools to work at all.
 * - `xenstore-read` of a missing node exits 1 with "xenstore-read: couldn't read path <path>" on stderr.
 * - `xenstore-ls <path>` (no transaction): DIRECTORY <path>, then depth-first for each child: READ <child>, with -p
 *   GET_PERMS <child>, then DIRECTORY <child>. It never uses DIRECTORY_PART unless DIRECTORY answers E2BIG.
 * - After E2BIG, libxenstore asks DIRECTORY_PART "<path>\0<offset>\0" from offset "0"; the offset is a BYTE offset
 *   into the children list (after parts "a\0bb\0" the next offset is "5"); a part whose children end with an extra
 *   NUL ends the list. Careful: libxenstore 4.17 reads the empty-list reply "gen\0\0" as ONE child named "",
 *   so answer E2BIG to DIRECTORY only when the list really is too long.
 * - `xenstore-chmod <path> n0 r1` sends the perm strings as given: SET_PERMS "<path>\0n0\0r1\0".
 * - `xenstore-watch -n 1 <path>` sends WATCH "<path>\0<path>\0" (the token is the path), prints the event path of
 *   each event it receives (the immediate first one included) and exits after -n events without UNWATCH.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { XS } from '@dominion/abi';
import { tempDir } from '@dominion/testing';
import {
  XsWireParser,
  encodeXsMessage,
  splitNul,
  xsErrorReply,
  xsOkReply,
  xsReply,
  xsRequest,
  xsWatchEvent,
  type XsMessage,
  type XsRequest,
} from '../../src/wire/index.js';
import { hex } from '@dominion/testing';

type Answer = (m: XsMessage) => XsMessage[];

interface ToolRun {
  bytes: Buffer;
  code: number | null;
  stdout: string;
  stderr: string;
  connections: number;
}

const TOOL_TIMEOUT_MS = 2000;

/** Runs one stock tool against a canned xenstored on a fresh socket; records every byte the tool sends. */
async function runTool(argv: string[], answer: Answer): Promise<ToolRun> {
  const dir = tempDir('dominion-xs-wire-');
  const path = join(dir.path, 'xenstored.sock');
  const received: Buffer[] = [];
  const sockets: Socket[] = [];
  let connectionsClosed!: Promise<void>;
  const server = createServer((conn) => {
    sockets.push(conn);
    const parser = new XsWireParser();
    conn.on('data', (chunk: Buffer) => {
      received.push(chunk);
      try {
        for (const m of parser.feed(chunk)) for (const r of answer(m)) conn.write(encodeXsMessage(r));
      } catch {
        conn.destroy();
      }
    });
    connectionsClosed = new Promise((resolve) => conn.on('close', () => resolve()));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, XENSTORED_PATH: path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        reject(new Error(`${argv.join(' ')} did not exit within ${TOOL_TIMEOUT_MS} ms`));
      }, TOOL_TIMEOUT_MS);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    // The tool has exited; its socket's last bytes and FIN may still be queued on our side.
    if (sockets.length > 0) await connectionsClosed;
    return { bytes: Buffer.concat(received), code, stdout, stderr, connections: sockets.length };
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  }
}

const TXID = 7;

interface CannedStore {
  values?: Record<string, string>;
  children?: Record<string, string[]>;
  /** DIRECTORY on these paths answers E2BIG, forcing DIRECTORY_PART. */
  tooBig?: Record<string, Buffer[]>;
  /** The first TRANSACTION_END answers EAGAIN. */
  eagainOnce?: boolean;
}

/** Plausible xenstored answers, built with our reply helpers: the tools are the judge of them. */
function cannedXenstored(store: CannedStore): Answer {
  let ends = 0;
  return (m) => {
    const path = splitNul(m.payload)[0] ?? '';
    switch (m.type) {
      case XS.XS_READ: {
        const v = store.values?.[path];
        return [v === undefined ? xsErrorReply(m, 'ENOENT') : xsReply(m, v)];
      }
      case XS.XS_DIRECTORY: {
        if (store.tooBig?.[path]) return [xsErrorReply(m, 'E2BIG')];
        const c = store.children?.[path] ?? [];
        return [xsReply(m, c.map((x) => `${x}\0`).join(''))];
      }
      case XS.XS_DIRECTORY_PART: {
        // parts are handed out in request order; the offsets the tool asks for are checked by the golden bytes
        const part = store.tooBig?.[path]?.shift();
        return [part ? xsReply(m, part) : xsErrorReply(m, 'EINVAL')];
      }
      case XS.XS_GET_PERMS:
        return [xsReply(m, 'n0\0r1\0')];
      case XS.XS_TRANSACTION_START:
        return [xsReply(m, `${TXID}\0`)];
      case XS.XS_TRANSACTION_END:
        return [store.eagainOnce && ends++ === 0 ? xsErrorReply(m, 'EAGAIN') : xsOkReply(m)];
      case XS.XS_WATCH: {
        const [wpath, token] = splitNul(m.payload);
        return [xsOkReply(m), xsWatchEvent(wpath, token)];
      }
      case XS.XS_WRITE:
      case XS.XS_RM:
      case XS.XS_SET_PERMS:
      case XS.XS_MKDIR:
        return [xsOkReply(m)];
      default:
        return [xsErrorReply(m, 'ENOSYS')];
    }
  };
}

/** A request as libxenstore sends it: req_id 0, in transaction `txId` (0 = none). */
const sent = (r: XsRequest, txId = 0): XsMessage => ({ type: r.type, reqId: 0, txId, payload: r.payload });

function expectCaptured(run: ToolRun, golden: Buffer, requests: XsMessage[]): void {
  expect(run.connections).toBe(1);
  // the live tool still sends exactly the frozen bytes
  expect(run.bytes.toString('hex')).toBe(golden.toString('hex'));
  // our parser reads them as the requests our builders make, and our encoder makes the same bytes
  expect(new XsWireParser().feed(golden)).toEqual(requests);
  expect(Buffer.concat(requests.map(encodeXsMessage)).toString('hex')).toBe(golden.toString('hex'));
}

const STORE: CannedStore = {
  values: { '/tool/x': 'hello', '/tool/y': 'world', '/tool/a': '1', '/tool/b': '2' },
  children: { '/tool': ['a', 'b'] },
};

// Fragments shared by the transaction-wrapped captures.
const TX_START = `
  06000000 00000000 00000000 01000000   # TRANSACTION_START: type @0 6, req_id @4 0, tx_id @8 0, len @12 1
  00                                    # "" NUL
`;
const TX_COMMIT = `
  07000000 00000000 07000000 02000000   # TRANSACTION_END: type @0 7, req_id @4 0, tx_id @8 7, len @12 2
  54 00                                 # "T" NUL: commit
`;

describe('bytes captured from Debian xenstore-utils', () => {
  it('xenstore-write <path> <value>: one WRITE, no transaction', async () => {
    const run = await runTool(['xenstore-write', '/tool/x', 'hello'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expectCaptured(
      run,
      hex`
        0b000000 00000000 00000000 0d000000   # WRITE: type @0 11, req_id @4 0, tx_id @8 0, len @12 13
        2f746f6f6c2f78 00                     # "/tool/x" NUL
        68656c6c6f                            # "hello", no terminator
      `,
      [sent(xsRequest.write('/tool/x', 'hello'))],
    );
  });

  it('xenstore-read <path>: one READ, no transaction; prints the value', async () => {
    const run = await runTool(['xenstore-read', '/tool/x'], cannedXenstored(STORE));
    expect([run.code, run.stdout]).toEqual([0, 'hello\n']);
    expectCaptured(
      run,
      hex`
        02000000 00000000 00000000 08000000   # READ: type @0 2, req_id @4 0, tx_id @8 0, len @12 8
        2f746f6f6c2f78 00                     # "/tool/x" NUL
      `,
      [sent(xsRequest.read('/tool/x'))],
    );
  });

  it('xenstore-read of a missing node: the same READ, then exit 1 on our ENOENT', async () => {
    const run = await runTool(['xenstore-read', '/tool/none'], cannedXenstored(STORE));
    expect([run.code, run.stdout, run.stderr]).toEqual([1, '', "xenstore-read: couldn't read path /tool/none\n"]);
    expectCaptured(
      run,
      hex`
        02000000 00000000 00000000 0b000000   # READ: type @0 2, req_id @4 0, tx_id @8 0, len @12 11
        2f746f6f6c2f6e6f6e65 00               # "/tool/none" NUL
      `,
      [sent(xsRequest.read('/tool/none'))],
    );
  });

  it('xenstore-read of two paths: both READs inside one transaction', async () => {
    const run = await runTool(['xenstore-read', '/tool/x', '/tool/y'], cannedXenstored(STORE));
    expect([run.code, run.stdout]).toEqual([0, 'hello\nworld\n']);
    expectCaptured(
      run,
      hex(`${TX_START}
        02000000 00000000 07000000 08000000   # READ: type @0 2, req_id @4 0, tx_id @8 7, len @12 8
        2f746f6f6c2f78 00                     # "/tool/x" NUL
        02000000 00000000 07000000 08000000   # READ: tx_id @8 7
        2f746f6f6c2f79 00                     # "/tool/y" NUL
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.read('/tool/x'), TXID),
        sent(xsRequest.read('/tool/y'), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  it('xenstore-write of two pairs: both WRITEs inside one transaction', async () => {
    const run = await runTool(['xenstore-write', '/tool/x', 'hello', '/tool/y', 'world'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expectCaptured(
      run,
      hex(`${TX_START}
        0b000000 00000000 07000000 0d000000   # WRITE: type @0 11, req_id @4 0, tx_id @8 7, len @12 13
        2f746f6f6c2f78 00 68656c6c6f          # "/tool/x" NUL "hello"
        0b000000 00000000 07000000 0d000000   # WRITE: tx_id @8 7, len @12 13
        2f746f6f6c2f79 00 776f726c64          # "/tool/y" NUL "world"
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.write('/tool/x', 'hello'), TXID),
        sent(xsRequest.write('/tool/y', 'world'), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  const RM_TX = `${TX_START}
    0d000000 00000000 07000000 08000000     # RM: type @0 13, req_id @4 0, tx_id @8 7, len @12 8
    2f746f6f6c2f78 00                       # "/tool/x" NUL
  ${TX_COMMIT}`;
  const rmRequests = [
    sent(xsRequest.transactionStart()),
    sent(xsRequest.rm('/tool/x'), TXID),
    sent(xsRequest.transactionEnd(true), TXID),
  ];

  it('xenstore-rm: RM inside a transaction', async () => {
    const run = await runTool(['xenstore-rm', '/tool/x'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expectCaptured(run, hex(RM_TX), rmRequests);
  });

  it('xenstore-rm retries the whole transaction when TRANSACTION_END answers EAGAIN', async () => {
    const run = await runTool(['xenstore-rm', '/tool/x'], cannedXenstored({ ...STORE, eagainOnce: true }));
    expect(run.code).toBe(0);
    expectCaptured(run, hex(RM_TX + RM_TX), [...rmRequests, ...rmRequests]);
  });

  it('xenstore-exists: READ inside a transaction, exit 0 when the node is there', async () => {
    const run = await runTool(['xenstore-exists', '/tool/x'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expectCaptured(
      run,
      hex(`${TX_START}
        02000000 00000000 07000000 08000000   # READ: type @0 2, req_id @4 0, tx_id @8 7, len @12 8
        2f746f6f6c2f78 00                     # "/tool/x" NUL
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.read('/tool/x'), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  it('xenstore-exists of a missing node aborts the transaction (END "F") and exits 1', async () => {
    const run = await runTool(['xenstore-exists', '/tool/none'], cannedXenstored(STORE));
    expect(run.code).toBe(1);
    expectCaptured(
      run,
      hex(`${TX_START}
        02000000 00000000 07000000 0b000000   # READ: type @0 2, req_id @4 0, tx_id @8 7, len @12 11
        2f746f6f6c2f6e6f6e65 00               # "/tool/none" NUL
        07000000 00000000 07000000 02000000   # TRANSACTION_END: type @0 7, tx_id @8 7, len @12 2
        46 00                                 # "F" NUL: abort
      `),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.read('/tool/none'), TXID),
        sent(xsRequest.transactionEnd(false), TXID),
      ],
    );
  });

  it('xenstore-list: DIRECTORY inside a transaction; prints the children', async () => {
    const run = await runTool(['xenstore-list', '/tool'], cannedXenstored(STORE));
    expect([run.code, run.stdout]).toEqual([0, 'a\nb\n']);
    expectCaptured(
      run,
      hex(`${TX_START}
        01000000 00000000 07000000 06000000   # DIRECTORY: type @0 1, req_id @4 0, tx_id @8 7, len @12 6
        2f746f6f6c 00                         # "/tool" NUL
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.directory('/tool'), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  it('xenstore-list of a directory too big for DIRECTORY: DIRECTORY_PART by byte offset', async () => {
    const parts = [Buffer.from('5\0a\0bb\0', 'latin1'), Buffer.from('5\0c\0\0', 'latin1')];
    const run = await runTool(['xenstore-list', '/tool'], cannedXenstored({ ...STORE, tooBig: { '/tool': parts } }));
    expect([run.code, run.stdout]).toEqual([0, 'a\nbb\nc\n']);
    expectCaptured(
      run,
      hex(`${TX_START}
        01000000 00000000 07000000 06000000   # DIRECTORY: tx_id @8 7, len @12 6 (we answer E2BIG)
        2f746f6f6c 00                         # "/tool" NUL
        16000000 00000000 07000000 08000000   # DIRECTORY_PART: type @0 22, req_id @4 0, tx_id @8 7, len @12 8
        2f746f6f6c 00 30 00                   # "/tool" NUL "0" NUL
        16000000 00000000 07000000 08000000   # DIRECTORY_PART: tx_id @8 7, len @12 8
        2f746f6f6c 00 35 00                   # "/tool" NUL "5" NUL: 5 bytes of "a\0bb\0" already read
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.directory('/tool'), TXID),
        sent(xsRequest.directoryPart('/tool', 0), TXID),
        sent(xsRequest.directoryPart('/tool', 5), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  it('xenstore-chmod: SET_PERMS with the perm strings as given, inside a transaction', async () => {
    const run = await runTool(['xenstore-chmod', '/tool/x', 'n0', 'r1'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expectCaptured(
      run,
      hex(`${TX_START}
        0e000000 00000000 07000000 0e000000   # SET_PERMS: type @0 14, req_id @4 0, tx_id @8 7, len @12 14
        2f746f6f6c2f78 00                     # "/tool/x" NUL
        6e30 00 7231 00                       # "n0" NUL "r1" NUL
      ${TX_COMMIT}`),
      [
        sent(xsRequest.transactionStart()),
        sent(xsRequest.setPerms('/tool/x', ['n0', 'r1']), TXID),
        sent(xsRequest.transactionEnd(true), TXID),
      ],
    );
  });

  const LS_CHILD_A = `
    02000000 00000000 00000000 08000000     # READ: type @0 2, req_id @4 0, tx_id @8 0, len @12 8
    2f746f6f6c2f61 00                       # "/tool/a" NUL
  `;
  const LS_CHILD_B = `
    02000000 00000000 00000000 08000000     # READ: tx_id @8 0
    2f746f6f6c2f62 00                       # "/tool/b" NUL
  `;
  const lsDir = (path: string) => sent(xsRequest.directory(path));

  it('xenstore-ls: DIRECTORY, then READ and DIRECTORY per child, no transaction, no GET_PERMS', async () => {
    const run = await runTool(['xenstore-ls', '/tool'], cannedXenstored(STORE));
    expect([run.code, run.stdout]).toEqual([0, 'a = "1"\nb = "2"\n']);
    expectCaptured(
      run,
      hex(`
        01000000 00000000 00000000 06000000   # DIRECTORY: type @0 1, req_id @4 0, tx_id @8 0, len @12 6
        2f746f6f6c 00                         # "/tool" NUL
      ${LS_CHILD_A}
        01000000 00000000 00000000 08000000   # DIRECTORY: len @12 8
        2f746f6f6c2f61 00                     # "/tool/a" NUL
      ${LS_CHILD_B}
        01000000 00000000 00000000 08000000   # DIRECTORY: len @12 8
        2f746f6f6c2f62 00                     # "/tool/b" NUL
      `),
      [
        lsDir('/tool'),
        sent(xsRequest.read('/tool/a')),
        lsDir('/tool/a'),
        sent(xsRequest.read('/tool/b')),
        lsDir('/tool/b'),
      ],
    );
  });

  it('xenstore-ls -p: GET_PERMS between each READ and DIRECTORY', async () => {
    const run = await runTool(['xenstore-ls', '-p', '/tool'], cannedXenstored(STORE));
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.endsWith('(n0,r1)'))).toHaveLength(2);
    expectCaptured(
      run,
      hex(`
        01000000 00000000 00000000 06000000   # DIRECTORY: len @12 6
        2f746f6f6c 00                         # "/tool" NUL
      ${LS_CHILD_A}
        03000000 00000000 00000000 08000000   # GET_PERMS: type @0 3, req_id @4 0, tx_id @8 0, len @12 8
        2f746f6f6c2f61 00                     # "/tool/a" NUL
        01000000 00000000 00000000 08000000   # DIRECTORY: len @12 8
        2f746f6f6c2f61 00                     # "/tool/a" NUL
      ${LS_CHILD_B}
        03000000 00000000 00000000 08000000   # GET_PERMS: len @12 8
        2f746f6f6c2f62 00                     # "/tool/b" NUL
        01000000 00000000 00000000 08000000   # DIRECTORY: len @12 8
        2f746f6f6c2f62 00                     # "/tool/b" NUL
      `),
      [
        lsDir('/tool'),
        sent(xsRequest.read('/tool/a')),
        sent(xsRequest.getPerms('/tool/a')),
        lsDir('/tool/a'),
        sent(xsRequest.read('/tool/b')),
        sent(xsRequest.getPerms('/tool/b')),
        lsDir('/tool/b'),
      ],
    );
  });

  it('xenstore-watch -n 1: WATCH with the path as its token; prints the first event', async () => {
    const run = await runTool(['xenstore-watch', '-n', '1', '/tool'], cannedXenstored(STORE));
    expect([run.code, run.stdout]).toEqual([0, '/tool\n']);
    expectCaptured(
      run,
      hex`
        04000000 00000000 00000000 0c000000   # WATCH: type @0 4, req_id @4 0, tx_id @8 0, len @12 12
        2f746f6f6c 00                         # "/tool" NUL: the path
        2f746f6f6c 00                         # "/tool" NUL: the token (xenstore-watch uses the path)
      `,
      [sent(xsRequest.watch('/tool', '/tool'))],
    );
  });
});
