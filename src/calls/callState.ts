import { StateTable } from './StateTable';

/**
 * The state of a call as a whole:
 *
 *   ringing -> active   its first callee answered
 *   ringing -> ended    no callee answered: each declined, timed out or was cancelled
 *   active  -> ended    the caller hung up, or the last callee in it left
 *
 * How it went for each callee is its leg's outcome (legState.ts).
 */
export type CallState = 'ringing' | 'active' | 'ended';

export const CALL_STATES = new StateTable<CallState>({
	ringing: ['active', 'ended'],
	active: ['ended'],
	ended: [],
});
