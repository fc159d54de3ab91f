// Values written out by hand from reference/xen-facts.md §5 (io/xenbus.h).
import { XenbusState, parseXenbusState, xenbusStateName } from '@dominion/abi';

describe('enum xenbus_state', () => {
  it('has states 0..8', () => {
    expect(XenbusState).toEqual({
      XenbusStateUnknown: 0,
      XenbusStateInitialising: 1,
      XenbusStateInitWait: 2,
      XenbusStateInitialised: 3,
      XenbusStateConnected: 4,
      XenbusStateClosing: 5,
      XenbusStateClosed: 6,
      XenbusStateReconfiguring: 7,
      XenbusStateReconfigured: 8,
    });
  });

  it('names a state by number, and nothing outside 0..8', () => {
    expect(xenbusStateName(4)).toBe('XenbusStateConnected');
    expect(xenbusStateName(0)).toBe('XenbusStateUnknown');
    expect(xenbusStateName(8)).toBe('XenbusStateReconfigured');
    expect(xenbusStateName(9)).toBeUndefined();
    expect(xenbusStateName(-1)).toBeUndefined();
    expect(xenbusStateName(1.5)).toBeUndefined();
  });

  it('parses a state node, reading missing or garbled values as Unknown', () => {
    expect(parseXenbusState('1')).toBe(1);
    expect(parseXenbusState('4')).toBe(4);
    expect(parseXenbusState('6')).toBe(6);
    expect(parseXenbusState('8')).toBe(8);
    expect(parseXenbusState(undefined)).toBe(0);
    expect(parseXenbusState('')).toBe(0);
    expect(parseXenbusState('9')).toBe(0);
    expect(parseXenbusState('42')).toBe(0);
    expect(parseXenbusState('4\n')).toBe(0);
    expect(parseXenbusState('Connected')).toBe(0);
  });
});
