export { Call, CALL_ROOM_PREFIX, isCallRoom, type Leg, type Media } from './Call';
export { CallService, type CallServiceDeps } from './CallService';
export { CALL_STATES, type CallState } from './callState';
export { canRing, type Relations, type RingDecision } from './canRing';
export { INVITE_OUTCOMES, type CallServiceAccessEvents, type CallServiceEvents, type InviteOutcome, type PartyRemovedReason } from './events';
export { InviteLimiter, type InviteLimits } from './InviteLimiter';
export { calleeOutcome, LEG_STATES, type LegOutcome, type LegState } from './legState';
export type { CallEndedReason, CallNotificationName, CallNotifications } from './notifications';
export { Presence, type Device } from './Presence';
