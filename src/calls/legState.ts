import { InvalidStateError } from '../errors';

/**
 * The state of one callee in a call (a "leg"). A table, not scattered ifs:
 *
 *   ringing -> accepted   the callee answered on one of its devices
 *   ringing -> declined   the callee declined
 *   ringing -> missed     the ring timeout passed
 *   ringing -> cancelled  the caller gave up, or ringing was stopped
 *   accepted -> ended     the callee or the call hung up
 *
 * Anything else is an InvalidState error.
 */
export type LegState = 'ringing' | 'accepted' | 'declined' | 'missed' | 'cancelled' | 'ended';

const TRANSITIONS: Record<LegState, readonly LegState[]> = {
	ringing: ['accepted', 'declined', 'missed', 'cancelled'],
	accepted: ['ended'],
	declined: [],
	missed: [],
	cancelled: [],
	ended: [],
};

export function canTransition(from: LegState, to: LegState): boolean {
	return TRANSITIONS[from].includes(to);
}

/** @throws InvalidStateError for a transition the table does not have. */
export function assertTransition(from: LegState, to: LegState): void {
	if (!canTransition(from, to)) {
		throw new InvalidStateError(`the call is ${from}, it cannot become ${to}`);
	}
}

/** Whether the leg is over (no transition leaves the state). */
export function isFinal(state: LegState): boolean {
	return TRANSITIONS[state].length === 0;
}

/** The caller's outcome of a call, once every leg has settled. */
export type CallerOutcome = 'answered' | 'declined' | 'no_answer' | 'cancelled' | 'unavailable';
/** A callee's outcome. */
export type CalleeOutcome = 'answered' | 'declined' | 'missed';

/** A callee's outcome from its leg: missed covers timeouts and the caller cancelling. */
export function calleeOutcome(leg: { everAccepted: boolean; state: LegState }): CalleeOutcome {
	if (leg.everAccepted) {
		return 'answered';
	}
	return leg.state === 'declined' ? 'declined' : 'missed';
}
