export {
	CALL_ROOM_PREFIX, CallService, isCallRoom, type CallServiceAccessEvents, type CallServiceDeps, type CallServiceEvents, type Media,
	type PartyRemovedReason,
} from './CallService';
export { canRing, type Relations, type RingDecision } from './canRing';
export { InviteLimiter } from './InviteLimiter';
export { assertTransition, calleeOutcome, canTransition, isFinal, type CalleeOutcome, type CallerOutcome, type LegState } from './legState';
export { Presence, type Device } from './Presence';
