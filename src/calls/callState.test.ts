import { InvalidStateError } from '../errors';
import { CALL_STATES, type CallState } from './callState';

const STATES: readonly CallState[] = ['ringing', 'active', 'ended'];
/** Written out by hand: the oracle. */
const LEGAL = new Set(['ringing->active', 'ringing->ended', 'active->ended']);

describe('a call as a state table', () => {
	test.each(STATES.flatMap((from) => STATES.map((to) => [from, to] as const)))('%s -> %s is legal exactly when the rules say so', (from, to) => {
		const legal = LEGAL.has(`${from}->${to}`);
		expect(CALL_STATES.can(from, to)).toBe(legal);
		if (legal) {
			expect(() => CALL_STATES.assert(from, to)).not.toThrow();
		} else {
			expect(() => CALL_STATES.assert(from, to)).toThrow(InvalidStateError);
		}
	});

	test('only ended is final', () => {
		expect(STATES.filter((state) => CALL_STATES.isFinal(state))).toEqual(['ended']);
	});
});
