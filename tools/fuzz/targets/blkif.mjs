// Ring slots a frontend writes: requests (both ABIs) judged by validateRequest against a small device,
// and responses as a frontend reads them back.
import { BlkifError, decodeIndirectSegments, decodeRequest, decodeResponse, validateRequest } from '@dominion/blkif';
import { expectOwn } from './own-error.mjs';

const PROTOCOLS = ['x86_64-abi', 'x86_32-abi'];

export function fuzz(data) {
  if (data.length < 2) return;
  const protocol = PROTOCOLS[data[0] & 1];
  const vbd = {
    sectors: BigInt(data[1]) * 8n,
    sectorSize: data[0] & 2 ? 4096 : 512,
    readonly: (data[0] & 4) !== 0,
    featureDiscard: (data[0] & 8) !== 0,
    discardSecure: (data[0] & 16) !== 0,
    featureFlushCache: (data[0] & 32) !== 0,
    featureBarrier: (data[0] & 64) !== 0,
    maxIndirectSegments: data[0] & 128 ? 256 : 0,
  };
  const body = data.subarray(2);
  const req = expectOwn(BlkifError, () => decodeRequest(body, protocol));
  if (req) {
    expectOwn(BlkifError, () => validateRequest(req, vbd));
    if (req.nrSegments !== undefined && req.indirectGrefs) {
      // The indirect pages' contents come from the guest too: reuse the slot bytes as a page.
      const page = Buffer.alloc(4096);
      body.copy(page);
      const segs = expectOwn(BlkifError, () =>
        decodeIndirectSegments([page, page, page, page, page, page, page, page], req.nrSegments),
      );
      if (segs) expectOwn(BlkifError, () => validateRequest(req, vbd, segs));
    }
  }
  expectOwn(BlkifError, () => decodeResponse(body, protocol));
}
