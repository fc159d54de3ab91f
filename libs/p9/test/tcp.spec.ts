// The server behind a real loopback socket: a disconnect clunks the client's fids.
import { waitFor } from '@dominion/testing';
import { connect } from 'node:net';
import { MemFilesystem, P9Framer, P9Message, P9Server, decodeMessage, encodeMessage } from '../src/index.js';
import { listenTcp } from './tcp.js';

describe('P9Server over TCP', () => {
  it('a client that disconnects releases its open files and fids', async () => {
    const fs = new MemFilesystem();
    const server = new P9Server({ exports: fs });
    const tcp = await listenTcp(server);
    try {
      const sock = connect(tcp.port, '127.0.0.1');
      const framer = new P9Framer(1 << 20);
      const replies: P9Message[] = [];
      sock.on('data', (b) => replies.push(...framer.push(b).map(decodeMessage)));
      const msgs: P9Message[] = [
        { type: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
        { type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: '', aname: '', n_uname: 0 },
        { type: 'Twalk', tag: 2, fid: 0, newfid: 1, wnames: [] },
        { type: 'Tlcreate', tag: 3, fid: 1, name: 'scratch', flags: 2, mode: 0o600, gid: 0 },
        { type: 'Twrite', tag: 4, fid: 1, offset: 0n, data: Buffer.from('bytes') },
        { type: 'Tunlinkat', tag: 5, dirfid: 0, name: 'scratch', flags: 0 },
      ];
      // One request at a time: each depends on the one before.
      for (const [i, m] of msgs.entries()) {
        sock.write(encodeMessage(m));
        await waitFor(() => replies.length === i + 1, 5000, `reply to ${m.type}`);
      }
      expect(replies.map((r) => r.type)).toEqual(['Rversion', 'Rattach', 'Rwalk', 'Rlcreate', 'Rwrite', 'Runlinkat']);
      expect(fs.inodeCount).toBe(2);
      expect(server.sessions).toBe(1);
      sock.destroy();
      await waitFor(() => server.sessions === 0 && fs.inodeCount === 1, 5000, 'the session to end');
    } finally {
      await tcp.close();
    }
  });
});
