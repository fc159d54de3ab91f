// An xl.cfg file is written by whoever asks for a domain; the parser and the domain-config builder must
// refuse nonsense with XlCfgError, never with anything else.
import { XlCfgError, parseDomainConfigText, parseXlCfg } from '@dominion/xlcfg';
import { expectOwn } from './own-error.mjs';

export function fuzz(data) {
  const text = data.toString('latin1');
  expectOwn(XlCfgError, () => parseXlCfg(text, { source: 'fuzz.cfg' }));
  expectOwn(XlCfgError, () => parseDomainConfigText(text, { source: 'fuzz.cfg' }));
}
