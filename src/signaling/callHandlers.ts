import type { Claims } from '../auth';
import type { CallService, Device } from '../calls';
import type { Handlers } from './mediaHandlers';

type CallRequest = Extract<keyof Handlers, `call.${string}`>;

/** The call requests of one session: `device` is the session's, for ringing and answering. */
export function callHandlers(calls: CallService, claims: Claims, device: Device): Pick<Handlers, CallRequest> {
	return {
		'call.invite': async (request) => {
			const identity = await calls.identity(claims, 'deviceId' in request ? request.deviceId : undefined);
			return calls.invite(claims, device, request, identity);
		},
		'call.accept': async ({ callId, deviceId }) => {
			const identity = await calls.identity(claims, deviceId);
			return calls.accept(claims, device, callId, identity);
		},
		'call.decline': async ({ callId }) => {
			await calls.decline(claims, device, callId);
			return {};
		},
		'call.cancel': async ({ callId }) => {
			await calls.cancel(claims, callId);
			return {};
		},
		'call.hangup': async ({ callId }) => {
			await calls.hangup(claims, callId);
			return {};
		},
		'call.token': async ({ callId }) => calls.token(claims, callId),
	};
}
