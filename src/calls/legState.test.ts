import { InvalidStateError } from '../errors';
import { CALLER_OUTCOMES } from '../store';
import { calleeOutcome, LEG_STATES, type LegOutcome, type LegState } from './legState';

const STATES: readonly LegState[] = ['ringing', 'accepted', 'answered', 'declined', 'no_answer', 'cancelled'];
const OUTCOMES: readonly LegOutcome[] = ['answered', 'declined', 'no_answer', 'cancelled'];

/** The legal transitions, written out by hand from the rules: this list, not the table, is the oracle. */
const LEGAL = new Set(['ringing->accepted', 'ringing->declined', 'ringing->no_answer', 'ringing->cancelled', 'accepted->answered']);

const pairs = STATES.flatMap((from) => STATES.map((to) => [from, to] as const));

describe('a leg of a call as a state table', () => {
	test.each(pairs)('%s -> %s is legal exactly when the rules say so', (from, to) => {
		const legal = LEGAL.has(`${from}->${to}`);
		expect(LEG_STATES.can(from, to)).toBe(legal);
		if (legal) {
			expect(() => LEG_STATES.assert(from, to)).not.toThrow();
		} else {
			expect(() => LEG_STATES.assert(from, to)).toThrow(InvalidStateError);
			expect(() => LEG_STATES.assert(from, to)).toThrow(expect.objectContaining({ code: 'invalid_state', message: `the call is ${from}, it cannot become ${to}` }));
		}
	});

	test('no state becomes itself: a transition is always a real change', () => {
		for (const state of STATES) {
			expect([state, LEG_STATES.can(state, state)]).toEqual([state, false]);
		}
	});

	test('a leg ends in exactly its outcomes, each a caller outcome the history stores as it is', () => {
		expect(STATES.filter((state) => LEG_STATES.isFinal(state))).toEqual(OUTCOMES);
		for (const outcome of OUTCOMES) {
			expect(CALLER_OUTCOMES).toContain(outcome);
		}
		// The caller's outcome for an invite that rang nobody has no leg.
		expect(CALLER_OUTCOMES.filter((outcome) => !(OUTCOMES as readonly string[]).includes(outcome))).toEqual(['unavailable']);
	});

	test.each([
		['answered', 'answered'],
		['declined', 'declined'],
		['no_answer', 'missed'],
		['cancelled', 'missed'],
	] as const)('a leg that ended %s is %s in the callee\'s history', (outcome, expected) => {
		expect(calleeOutcome(outcome)).toBe(expected);
	});
});
