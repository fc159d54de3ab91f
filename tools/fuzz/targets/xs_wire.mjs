// xs_wire as a guest or a socket client sends it: whole datagrams (decodeXsMessage) and a byte stream cut
// at arbitrary places (XsWireParser), whose messages must equal the ones the same bytes give in one piece.
import { XENSTORE_PAYLOAD_MAX } from '@dominion/abi';
import { XenstoreError, XsWireParser, decodeXsMessage, parsePerms, splitNul } from '@dominion/xenstore';
import { bound, expectOwn } from './own-error.mjs';

function feedAll(parser, chunks) {
  const out = [];
  for (const c of chunks) {
    if (parser.failed) break;
    out.push(...parser.feed(c));
  }
  return out;
}

export function fuzz(data) {
  const m = expectOwn(XenstoreError, () => decodeXsMessage(data));
  if (m) {
    bound(m.payload.length <= XENSTORE_PAYLOAD_MAX, `payload ${m.payload.length} > XENSTORE_PAYLOAD_MAX`);
    const fields = splitNul(m.payload);
    expectOwn(XenstoreError, () => parsePerms(fields));
  }
  if (data.length < 1) return;
  // The first byte picks the cut size, so the same stream is tried whole and in pieces.
  const step = 1 + (data[0] % 23);
  const rest = data.subarray(1);
  const whole = feedAll(new XsWireParser(), [rest]);
  const pieces = [];
  for (let i = 0; i < rest.length; i += step) pieces.push(rest.subarray(i, i + step));
  const cut = new XsWireParser();
  const split = feedAll(cut, pieces);
  bound(whole.length === split.length, `whole stream gave ${whole.length} messages, cut stream ${split.length}`);
  for (let i = 0; i < whole.length; i++) {
    bound(whole[i].payload.equals(split[i].payload), `message ${i} differs when the stream is cut`);
  }
  bound(cut.buffered <= rest.length + 16, `parser buffers ${cut.buffered} bytes of ${rest.length}`);
}
