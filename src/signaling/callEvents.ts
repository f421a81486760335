import type { CallNotificationName, CallNotifications } from '../calls';
import type { ServerEventData, ServerEventName } from './protocol';

/** A server event with its payload, as protocol.ts types it. */
type WireEvent = { [N in ServerEventName]: { name: N; data: ServerEventData<N> } }[ServerEventName];

/**
 * Each call notification as its wire event (`call.*` of protocol.ts). NOTE:
 * one function per notification, so a payload that does not fit its event's
 * schema does not compile.
 */
const WIRE: { [N in CallNotificationName]: (data: CallNotifications[N]) => WireEvent } = {
	incoming: (data) => ({ name: 'call.incoming', data }),
	ringing: (data) => ({ name: 'call.ringing', data }),
	accepted: (data) => ({ name: 'call.accepted', data }),
	declined: (data) => ({ name: 'call.declined', data }),
	noAnswer: (data) => ({ name: 'call.noAnswer', data }),
	left: (data) => ({ name: 'call.left', data }),
	cancelled: (data) => ({ name: 'call.cancelled', data }),
	missed: (data) => ({ name: 'call.missed', data }),
	answeredElsewhere: (data) => ({ name: 'call.answeredElsewhere', data }),
	ended: (data) => ({ name: 'call.ended', data }),
};

/** The wire event that tells a device the call notification `name`. */
export function callEvent<N extends CallNotificationName>(name: N, data: CallNotifications[N]): WireEvent {
	return WIRE[name](data);
}
