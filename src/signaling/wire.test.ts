import { randomUUID } from 'node:crypto';
import { checkServerEvent, serverEventProblem, takeSchemaMismatches } from '../../test/helpers/serverEvents';
import type { CallNotificationName, CallNotifications } from '../calls';
import { callEvent } from './wire';
import { serverEvents } from './protocol';

const callId = randomUUID();
/** One payload of each call notification, as CallService sends them. */
const SAMPLES: { [N in CallNotificationName]: CallNotifications[N] } = {
	incoming: { callId, from: { handle: 'alice', displayName: 'Alice', verified: true }, media: 'video', waiting: false, e2ee: true },
	ringing: { callId, handle: 'bob' },
	accepted: { callId, handle: 'bob', roomId: `call-${callId}`, token: 'a.b.c' },
	declined: { callId, handle: 'bob' },
	noAnswer: { callId, handle: 'bob' },
	left: { callId, handle: 'bob' },
	cancelled: { callId },
	missed: { callId },
	silenced: { callId, from: { handle: 'ada', displayName: 'Ada', verified: false }, media: 'audio' },
	answeredElsewhere: { callId },
	ended: { callId, reason: 'declinedElsewhere' },
	knock: { linkId: 'AAAAAAAAAAAAAAAAAAAAAA', knockId: 'BBBBBBBBBBBBBBBBBBBBBB', title: 'Standup', name: 'Ada', verified: false, guest: true },
	knockEnded: { linkId: 'AAAAAAAAAAAAAAAAAAAAAA', knockId: 'BBBBBBBBBBBBBBBBBBBBBB' },
};
/** The lobby's notifications are `link.*` events, the rest `call.*`. */
const eventOf = (name: CallNotificationName) => (name === 'knock' || name === 'knockEnded' ? `link.${name}` : `call.${name}`);

describe('call notifications on the wire', () => {
	test.each(Object.keys(SAMPLES) as CallNotificationName[])('%s is a call.* (or link.*) event that matches its schema in protocol.ts', (name) => {
		const [event, data] = callEvent(name, SAMPLES[name] as never);
		expect(event).toBe(eventOf(name));
		expect(data).toEqual(SAMPLES[name]);
		expect(serverEventProblem(event, data)).toBeUndefined();
	});

	test('every call.* and link.* server event of protocol.ts has its notification', () => {
		const wire = Object.keys(SAMPLES).map((name) => callEvent(name as CallNotificationName, SAMPLES[name as CallNotificationName] as never)[0]);
		expect(wire.sort()).toEqual(Object.keys(serverEvents).filter((name) => name.startsWith('call.') || name.startsWith('link.')).sort());
	});
});

describe('the server event check every SignalingClient runs', () => {
	test('a payload off its schema, and an event protocol.ts does not have, are mismatches', () => {
		expect(serverEventProblem('call.ended', { callId, reason: 'hungup' })).toMatch(/^reason: /);
		expect(serverEventProblem('call.ringing', { callId })).toMatch(/^handle: /);
		expect(serverEventProblem('call.rung', { callId })).toBe('protocol.ts has no such server event');
		expect(serverEventProblem('peer.left', { peerId: 'p1' })).toBeUndefined();
	});

	test('checkServerEvent keeps mismatches until they are taken (the setup file fails the test then)', () => {
		checkServerEvent('call.missed', { callId });
		checkServerEvent('call.missed', { callId: 7 });
		expect(takeSchemaMismatches()).toEqual([{ name: 'call.missed', data: { callId: 7 }, problem: expect.stringMatching(/^callId: /) }]);
		expect(takeSchemaMismatches()).toEqual([]);
	});
});
