import { randomUUID } from 'node:crypto';
import { api, callable, device, login, publishDevice, type TestAccount, type TestDevice } from '../helpers/accounts';
import { webRtcTransportIds } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import type { SignalingClient } from '../helpers/signalingClient';

// NOTE: long, so that a peer gone within a moment was put out, not timed out.
const GRACE_MS = 60_000;
const FORBIDDEN = { ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } };
const NOT_FOUND = { ok: false, error: { code: 'not_found', message: 'no such call' } };
const PERIODIC = new Set(['consumer.score', 'producer.score', 'room.activeSpeaker']);

/** A party in the call's room: its room connection, peer and transports (send, recv). */
type InRoom = { client: SignalingClient; peerId: string; resumeToken: string; transportIds: string[] };

// A call's room (call-<callId>) is for the call's current parties alone: the
// caller and the callees who accepted, on the login session that placed or
// answered the call; never for a `*` grant. A hang-up or the call's end puts
// the party out of the room at once, and nothing lets it back in.
describe('a call\'s room belongs to the call\'s current parties', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	let counter = 0;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			rooms: { reconnectGraceMs: GRACE_MS },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000 },
			calls: { invitesPerMinute: 1000, unansweredPerDay: 1000 },
		});
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	/** An account anybody may call. */
	const account = (prefix: string): Promise<TestAccount> => callable(node, `${prefix}_${++counter}`);

	const connect = (token: string): Promise<SignalingClient> => device(node, { token }, clients);

	/** A connection of a device that published its key, as one that places or answers a call. */
	async function party(token: string): Promise<TestDevice> {
		const deviceId = await publishDevice(node, token);
		return Object.assign(await connect(token), { deviceId });
	}

	const rtpCapabilities = () => node.pool.routerRtpCapabilities as never;
	/** room.join's data for a call's room, which is end-to-end encrypted. */
	const sealed = (roomId: string) => ({ roomId, rtpCapabilities: rtpCapabilities(), e2ee: true });
	/** An ack, with a success's data left out (so that a failure reads short). */
	const brief = (reply: unknown) => ((reply as { ok?: unknown }).ok === true ? { ok: true } : reply);
	const joinRaw = async (token: string, roomId: string) => brief(await (await connect(token)).requestRaw('room.join', sealed(roomId)));

	/** Joins with `token` on a new connection and creates a send and a receive transport. */
	async function enter(token: string, roomId: string): Promise<InRoom> {
		const client = await connect(token);
		const joined = await client.request('room.join', sealed(roomId));
		const transportIds: string[] = [];
		for (const direction of ['send', 'recv'] as const) {
			transportIds.push((await client.request('transport.create', { direction })).id);
		}
		return { client, peerId: joined.peerId, resumeToken: joined.resumeToken, transportIds };
	}

	/** The caller rings every callee's device, each callee answers; resolves with the room tokens. */
	async function answeredCall(callees: TestAccount[]) {
		const caller = await account('caller');
		const callerDevice = await party(caller.token);
		const devices = await Promise.all(callees.map((callee) => party(callee.token)));
		const { callId } = await callerDevice.request('call.invite', { to: callees.map((c) => c.handle), media: 'audio', deviceId: callerDevice.deviceId });
		const calleeTokens: string[] = [];
		let roomId = '';
		for (const d of devices) {
			await d.waitFor('call.incoming');
			const accepted = await d.request('call.accept', { callId, deviceId: d.deviceId });
			calleeTokens.push(accepted.token);
			roomId = accepted.roomId;
		}
		const { token: callerToken } = await callerDevice.waitFor('call.accepted');
		return { caller, callerDevice, devices, callId, roomId, callerToken, calleeTokens };
	}

	/** The events a client got after the first `name`, periodic ones aside. */
	const eventsAfter = (client: SignalingClient, name: string) => {
		const names = client.events.map((e) => e.name as string).filter((n) => !PERIODIC.has(n));
		return names.slice(names.indexOf(name) + 1);
	};

	test('no * grant opens a call\'s room, nor a token naming it for someone else; no other room may be called call-...', async () => {
		const callee = await account('callee');
		const { caller, roomId, callerToken, calleeTokens } = await answeredCall([callee]);

		const dev = await api(node, undefined, 'POST', '/api/dev/token', { name: 'Mallory' });
		expect(dev.status).toBe(200);
		expect((await node.tokens.verify(dev.body.token)).rooms).toEqual(['*']);
		const tokens = {
			// POST /api/dev/token without a room.
			dev: dev.body.token as string,
			// An identity provider's wildcard, even for the caller's own sub.
			partyWildcard: await node.tokens.issue({ sub: caller.id, handle: caller.handle, rooms: ['*'] }),
			// A token naming the room, for a sub that is no party.
			stranger: await node.tokens.issue({ sub: 'idp-mallory', rooms: [roomId] }),
		};
		const results: [string, string, unknown][] = [];
		for (const [label, token] of Object.entries(tokens)) {
			for (const target of [roomId, `call-${randomUUID()}`, 'call-lobby']) {
				results.push([label, target === roomId ? 'the live call' : target, await joinRaw(token, target)]);
			}
		}
		expect(results).toEqual(results.map(([label, target]) => [label, target, FORBIDDEN]));
		expect(node.registry.get(roomId)).toBeUndefined();

		// The dev route will not name a room with the reserved prefix.
		for (const room of [roomId, 'call-lobby', 'call-']) {
			const res = await api(node, undefined, 'POST', '/api/dev/token', { name: 'Mallory', room });
			expect([room, res.status, res.body.error?.code]).toEqual([room, 400, 'validation_failed']);
			expect(res.body.error.message).toContain('reserved');
		}
		// Other rooms are as before.
		expect((await api(node, undefined, 'POST', '/api/dev/token', { name: 'Mallory', room: 'callers-club' })).status).toBe(200);

		// The parties do get in.
		for (const token of [callerToken, calleeTokens[0]!]) {
			await expect((await connect(token)).request('room.join', sealed(roomId))).resolves.toMatchObject({ roomId });
		}
		expect(node.registry.get(roomId)!.peers.size).toBe(2);
	});

	test('a callee who declined, one a block silenced, and a device of the callee that rang while another answered: no room token they have or could get opens the room', async () => {
		const bob = await account('bob');
		const carol = await account('carol');
		const dave = await account('dave');
		const caller = await account('caller');
		const callerDevice = await party(caller.token);
		const bobPhone = await party(bob.token);
		const bobLaptopToken = await login(node, bob);
		const bobLaptop = await connect(bobLaptopToken);
		const carolDevice = await connect(carol.token);
		const daveDevice = await connect(dave.token);
		const { callId } = await callerDevice.request('call.invite', { to: [bob.handle, carol.handle, dave.handle], media: 'audio', deviceId: callerDevice.deviceId });
		for (const d of [bobPhone, bobLaptop, carolDevice, daveDevice]) {
			await d.waitFor('call.incoming');
		}
		await carolDevice.request('call.decline', { callId });
		expect((await api(node, dave.token, 'PUT', `/api/me/blocks/${caller.handle}`)).status).toBeLessThan(300);
		await daveDevice.waitFor('call.cancelled');
		const accepted = await bobPhone.request('call.accept', { callId, deviceId: bobPhone.deviceId });
		await bobLaptop.waitFor('call.answeredElsewhere');
		const { roomId } = accepted;

		// Exactly what call.token would issue each of them: the room, bound to its login session.
		const roomTokenFor = async (who: TestAccount, accountToken: string) => node.tokens.issue({
			sub: who.id, handle: who.handle, name: who.handle, rooms: [roomId], psid: (await node.tokens.verify(accountToken)).sid,
		});
		const outsiders = [
			{ label: 'bob\'s laptop, answered elsewhere', device: bobLaptop, token: await roomTokenFor(bob, bobLaptopToken) },
			{ label: 'carol, declined', device: carolDevice, token: await roomTokenFor(carol, carol.token) },
			{ label: 'dave, silenced by a block', device: daveDevice, token: await roomTokenFor(dave, dave.token) },
		];
		const results: unknown[] = [];
		for (const { label, device, token } of outsiders) {
			results.push([label, 'call.token', brief(await device.requestRaw('call.token', { callId }))]);
			results.push([label, 'room.join', await joinRaw(token, roomId)]);
		}
		expect(results).toEqual(outsiders.flatMap(({ label }) => [[label, 'call.token', NOT_FOUND], [label, 'room.join', FORBIDDEN]]));

		// The phone that answered gets in, and call.token still serves its login session.
		await enter(accepted.token, roomId);
		expect(await bobPhone.request('call.token', { callId })).toMatchObject({ roomId });
		expect(node.registry.get(roomId)!.peers.size).toBe(1);
	});

	test('a callee who hangs up gets room.removed, its peer and transports close, the others see it leave; its room token and call.token are refused', async () => {
		const bob = await account('bob');
		const carol = await account('carol');
		const { callerDevice, devices: [bobDevice], callId, roomId, callerToken, calleeTokens: [bobToken, carolToken] } = await answeredCall([bob, carol]);
		const [ada, b, c] = [await enter(callerToken, roomId), await enter(bobToken!, roomId), await enter(carolToken!, roomId)];
		const before = await webRtcTransportIds(node.pool);
		expect([...ada.transportIds, ...b.transportIds, ...c.transportIds].filter((id) => !before.has(id))).toEqual([]);

		await bobDevice!.request('call.hangup', { callId });
		expect(await b.client.waitFor('room.removed')).toEqual({ reason: 'hangup' });
		for (const other of [ada, c]) {
			await other.client.waitFor('peer.left', (e) => e.peerId === b.peerId);
		}
		expect([...node.registry.get(roomId)!.peers.keys()].sort()).toEqual([ada.peerId, c.peerId].sort());
		const after = await webRtcTransportIds(node.pool);
		expect(b.transportIds.filter((id) => after.has(id))).toEqual([]);
		expect([...ada.transportIds, ...c.transportIds].filter((id) => !after.has(id))).toEqual([]);
		// Nothing of the room reaches it afterwards; its connection is in no room.
		expect(eventsAfter(b.client, 'room.removed')).toEqual([]);
		expect(await b.client.requestRaw('transport.create', { direction: 'send' })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });

		// Back in with the old token: on the same connection or a new one, refused; no fresh token either.
		expect(brief(await b.client.requestRaw('room.join', sealed(roomId)))).toEqual(FORBIDDEN);
		expect(await joinRaw(bobToken!, roomId)).toEqual(FORBIDDEN);
		expect(brief(await bobDevice!.requestRaw('call.token', { callId }))).toEqual(NOT_FOUND);
		// The call goes on for the others.
		expect(eventsAfter(ada.client, 'peer.left').filter((n) => n === 'room.removed')).toEqual([]);
		await expect(callerDevice.request('call.token', { callId })).resolves.toMatchObject({ roomId });
		expect(node.registry.get(roomId)!.peers.size).toBe(2);
	});

	test.each(['caller', 'callee'] as const)('the call ends when the %s hangs up: both parties are put out, and neither gets back in', async (who) => {
		const callee = await account('callee');
		const { callerDevice, devices: [calleeDevice], callId, roomId, callerToken, calleeTokens: [calleeToken] } = await answeredCall([callee]);
		const caller = { device: callerDevice, token: callerToken, inRoom: await enter(callerToken, roomId) };
		const answered = { device: calleeDevice!, token: calleeToken!, inRoom: await enter(calleeToken!, roomId) };
		const [leaver, other] = who === 'caller' ? [caller, answered] : [answered, caller];

		await leaver.device.request('call.hangup', { callId });
		expect(await leaver.inRoom.client.waitFor('room.removed')).toEqual({ reason: 'hangup' });
		expect(await other.inRoom.client.waitFor('room.removed')).toEqual({ reason: 'callEnded' });
		await pollUntil('the room is empty', () => (node.registry.get(roomId)?.peers.size ?? 0) === 0);
		const after = await webRtcTransportIds(node.pool);
		expect([...caller.inRoom.transportIds, ...answered.inRoom.transportIds].filter((id) => after.has(id))).toEqual([]);
		for (const party of [caller, answered]) {
			expect(await joinRaw(party.token, roomId)).toEqual(FORBIDDEN);
			expect(brief(await party.device.requestRaw('call.token', { callId }))).toEqual(NOT_FOUND);
		}
	});

	test('a party whose room connection dropped leaves at once when the call ends, not after its grace; room.resume finds nothing', async () => {
		const callee = await account('callee');
		const { callerDevice, callId, roomId, callerToken, calleeTokens: [calleeToken] } = await answeredCall([callee]);
		const ada = await enter(callerToken, roomId);
		const bob = await enter(calleeToken!, roomId);
		bob.client.disconnect();
		const room = node.registry.get(roomId)!;
		await pollUntil('the node noticed the drop', () => room.peers.get(bob.peerId)?.link === undefined);

		await callerDevice.request('call.hangup', { callId });
		await ada.client.waitFor('room.removed');
		await pollUntil('bob\'s peer is gone', () => !room.peers.has(bob.peerId), { timeoutMs: 2000 });
		const after = await webRtcTransportIds(node.pool);
		expect(bob.transportIds.filter((id) => after.has(id))).toEqual([]);
		// The token still opens a connection (it has not expired), but the peer is not there to take back.
		const back = await connect(calleeToken!);
		expect(await back.requestRaw('room.resume', { resumeToken: bob.resumeToken })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(brief(await back.requestRaw('room.join', sealed(roomId)))).toEqual(FORBIDDEN);
	});

	test('bad input still gets typed errors, and no call- room id is a way in', async () => {
		const { body } = await api(node, undefined, 'POST', '/api/dev/token', { name: 'Garbage' });
		const wildcard = await connect(body.token as string);
		const cases: [unknown, string][] = [
			[{ roomId: `call-${'x'.repeat(60)}`, rtpCapabilities: rtpCapabilities() }, 'validation_failed'],
			[{ roomId: 'call-/../lobby', rtpCapabilities: rtpCapabilities() }, 'validation_failed'],
			[{ roomId: 'call-x', rtpCapabilities: rtpCapabilities(), extra: true }, 'validation_failed'],
			[{ roomId: 42, rtpCapabilities: rtpCapabilities() }, 'validation_failed'],
			[{ roomId: 'call-x' }, 'validation_failed'],
			[{ roomId: 'call-', rtpCapabilities: rtpCapabilities() }, 'forbidden'],
			[{ roomId: 'call-x', rtpCapabilities: { codecs: [] } }, 'forbidden'],
		];
		const results: [string, string, string][] = [];
		for (const [payload, code] of cases) {
			const reply = await wildcard.requestRaw('room.join', payload) as { ok: boolean; error?: { code: string } };
			results.push([JSON.stringify(payload).slice(0, 40), code, reply.error?.code ?? 'ok']);
		}
		expect(results.map(([p, , got]) => [p, got])).toEqual(results.map(([p, want]) => [p, want]));
		expect(node.registry.get('call-')).toBeUndefined();
		// A server event is no request; call requests check their input first.
		expect(await wildcard.requestRaw('room.removed', { reason: 'hangup' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(await wildcard.requestRaw('call.token', { callId: 'call-x', extra: 1 })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		// An account token grants no room, its own call's neither.
		const callee = await account('callee');
		const { caller, roomId } = await answeredCall([callee]);
		expect(await joinRaw(caller.token, roomId)).toEqual(FORBIDDEN);
		for (const room of [7, '', 'call-x\n', `call-${'y'.repeat(64)}`]) {
			const res = await api(node, undefined, 'POST', '/api/dev/token', { name: 'Garbage', room });
			expect([room, res.status, res.body.error?.code]).toEqual([room, 400, 'validation_failed']);
		}
	});
});
