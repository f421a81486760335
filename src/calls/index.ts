export {
	CALL_ROOM_PREFIX, CallService, isCallRoom, systemClock, type CallServiceAccessEvents, type CallServiceDeps, type CallServiceEvents, type Clock, type Media,
	type PartyRemovedReason,
} from './CallService';
export { canRing, DEFAULT_SETTINGS, type Relations, type RingDecision, type UserSettings } from './canRing';
export { followAccountChanges } from './followAccountChanges';
export { InviteLimiter } from './InviteLimiter';
export { assertTransition, calleeOutcome, canTransition, isFinal, type CalleeOutcome, type CallerOutcome, type LegState } from './legState';
export { Presence, type Device } from './Presence';
