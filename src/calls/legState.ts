import type { CalleeOutcome, CallerOutcome } from '../store';
import { StateTable } from './StateTable';

/**
 * How a ringing leg was taken from its callee (a block or a settings change)
 * while the caller still sees it ring: `silenced` (the callee's settings
 * silence such callers: the history says so) or `hidden` (no callee row).
 */
export type Withdrawn = 'silenced' | 'hidden';

/** How a leg ended: exactly the caller's history outcome for that callee. */
export type LegOutcome = Exclude<CallerOutcome, 'unavailable'>;

/**
 * The state of one callee in a call (a "leg"). The states a leg ends in are
 * its outcomes:
 *
 *   ringing  -> accepted   the callee answered on one of its devices
 *   ringing  -> declined   the callee declined
 *   ringing  -> no_answer  the ring timeout passed
 *   ringing  -> cancelled  the caller gave up, or the call ended around it
 *   accepted -> answered   the callee or the call hung up
 *
 * Anything else is an InvalidState error.
 */
export type LegState = 'ringing' | 'accepted' | LegOutcome;

export const LEG_STATES = new StateTable<LegState>({
	ringing: ['accepted', 'declined', 'no_answer', 'cancelled'],
	accepted: ['answered'],
	answered: [],
	declined: [],
	no_answer: [],
	cancelled: [],
});

const CALLEE_OUTCOMES: Readonly<Record<LegOutcome, CalleeOutcome>> = {
	answered: 'answered',
	declined: 'declined',
	no_answer: 'missed',
	cancelled: 'missed',
};

/** The callee's history outcome of a leg that ended in `outcome`: missed covers a timeout and the caller giving up. */
export function calleeOutcome(outcome: LegOutcome): CalleeOutcome {
	return CALLEE_OUTCOMES[outcome];
}
