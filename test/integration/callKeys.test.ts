import { randomBytes } from 'node:crypto';
import { api, callable, callDevice, device, login, publishDevice, type TestAccount, type TestDevice } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import type { SignalingClient } from '../helpers/signalingClient';

const wrapped = () => randomBytes(120).toString('base64url');

// A call's room is end-to-end encrypted (docs/e2ee.md): each party takes
// part as the device whose key it published, and the sender keys the
// parties wrap for each other's devices go through the node as opaque bytes,
// to the room's other peers alone.
describe('the devices and sender keys of a call', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	let counter = 0;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000 },
			calls: { invitesPerMinute: 1000, unansweredPerDay: 1000 },
		});
	});
	afterEach(() => {
		clients.splice(0).forEach((c) => c.disconnect());
		node.app.keys.withhold = undefined;
	});
	afterAll(() => node.close());

	const account = (prefix: string): Promise<TestAccount> => callable(node, `${prefix}_${++counter}`);

	const connect = (token: string): Promise<SignalingClient> => device(node, { token }, clients);

	const sealed = (roomId: string) => ({ roomId, rtpCapabilities: node.pool.routerRtpCapabilities as never, e2ee: true });

	/** A call from a new caller to `callees`, each answering on its device; every party joins the room. */
	async function inCall(count: number) {
		const caller = await callDeviceOf(await account('caller'));
		const callees = await Promise.all(Array.from({ length: count }, async () => callDeviceOf(await account('callee'))));
		const { callId } = await caller.request('call.invite', { to: callees.map((d) => handleOf.get(d)!), media: 'audio', deviceId: caller.deviceId });
		const tokens = [(async () => (await caller.waitFor('call.accepted')).token)()];
		let roomId = '';
		for (const callee of callees) {
			await callee.waitFor('call.incoming');
			const accepted = await callee.request('call.accept', { callId, deviceId: callee.deviceId });
			roomId = accepted.roomId;
			tokens.push(Promise.resolve(accepted.token));
		}
		const peers: { client: SignalingClient; peerId: string; device: TestDevice }[] = [];
		for (const [i, device] of [caller, ...callees].entries()) {
			const client = await connect(await tokens[i]!);
			peers.push({ client, peerId: (await client.request('room.join', sealed(roomId))).peerId, device });
		}
		return { callId, roomId, peers };
	}

	const handleOf = new Map<SignalingClient, string>();
	/** A device of `who` that published its key. */
	async function callDeviceOf(who: TestAccount): Promise<TestDevice> {
		const d = await callDevice(node, who, clients);
		handleOf.set(d, who.handle);
		return d;
	}

	test('a party takes part as the device whose key its login session published; in the room, each peer shows that device and key', async () => {
		const callerAccount = await account('caller');
		const calleeAccount = await account('callee');
		const caller = await callDeviceOf(callerAccount);
		const callee = await connect(calleeAccount.token);
		// A key another login session of the callee published is not this session's.
		const otherSession = await publishDevice(node, await login(node, calleeAccount));

		const { callId } = await caller.request('call.invite', { to: [calleeAccount.handle], media: 'video', deviceId: caller.deviceId });
		expect(await callee.waitFor('call.incoming')).toMatchObject({ callId, e2ee: true });
		for (const deviceId of [randomBytes(16).toString('base64url'), otherSession]) {
			expect(await callee.requestRaw('call.accept', { callId, deviceId })).toMatchObject({ ok: false, error: { code: 'e2ee_unavailable' } });
		}
		expect(await callee.requestRaw('call.accept', { callId, deviceId: 'short' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		expect(await caller.requestRaw('call.invite', { to: [calleeAccount.handle], media: 'audio', deviceId: otherSession })).toMatchObject({ ok: false, error: { code: 'e2ee_unavailable' } });

		// Answered without a device: still ringing is over, but its room is closed to this party, which is told why.
		const accepted = await callee.request('call.accept', { callId });
		const calleeRoom = await connect(accepted.token);
		expect(await calleeRoom.requestRaw('room.join', sealed(accepted.roomId))).toMatchObject({ ok: false, error: { code: 'e2ee_unavailable' } });

		const { token } = await caller.waitFor('call.accepted');
		const callerRoom = await connect(token);
		expect(await callerRoom.requestRaw('room.join', { ...sealed(accepted.roomId), e2ee: false })).toMatchObject({
			ok: false, error: { code: 'e2ee_mismatch', details: { e2ee: true } },
		});
		const joined = await callerRoom.request('room.join', sealed(accepted.roomId));
		const devices = (await api(node, callerAccount.token, 'GET', '/api/me/devices')).body.devices;
		expect(joined.peers.length).toBe(0);
		expect(devices).toEqual([expect.objectContaining({ deviceId: caller.deviceId, current: true })]);
		expect(node.registry.get(accepted.roomId)!.peers.get(joined.peerId)!.identity).toEqual({ deviceId: caller.deviceId, key: devices[0].publicKey });
	});

	test('a sender key goes to the peers it names, as sent, from the sender\'s peer id; never to anyone outside the room', async () => {
		const { roomId, peers: [a, b, c] } = await inCall(2);
		const outsider = await inCall(1);

		const toB = wrapped();
		const toC = wrapped();
		const reply = await a!.client.request('e2ee.keys', { keys: [
			{ to: b!.peerId, wrapped: toB }, { to: c!.peerId, wrapped: toC }, { to: outsider.peers[0]!.peerId, wrapped: wrapped() },
		] });
		expect(reply).toEqual({ delivered: 2 });
		expect(await b!.client.waitFor('e2ee.key')).toEqual({ from: a!.peerId, wrapped: toB });
		expect(await c!.client.waitFor('e2ee.key')).toEqual({ from: a!.peerId, wrapped: toC });
		// Each peer shows its device; the one outside got nothing, nor did the sender.
		const room = node.registry.get(roomId)!;
		expect([a!, b!, c!].map((p) => room.peers.get(p.peerId)!.identity?.deviceId)).toEqual([a!, b!, c!].map((p) => p.device.deviceId));
		await new Promise((resolve) => setTimeout(resolve, 200));
		for (const p of [a!, ...outsider.peers]) {
			expect(p.client.events.filter((e) => e.name === 'e2ee.key')).toEqual([]);
		}
	});

	test('bad sender keys get typed errors; a peer of a room that is not a call\'s may not send any; the test hook withholds', async () => {
		const { peers: [a, b] } = await inCall(1);
		const cases: [unknown, string][] = [
			[{ keys: [] }, 'validation_failed'],
			[{ keys: [{ to: b!.peerId, wrapped: 'not base64url!' }] }, 'validation_failed'],
			[{ keys: [{ to: b!.peerId, wrapped: 'x'.repeat(513) }] }, 'validation_failed'],
			[{ keys: [{ to: b!.peerId, wrapped: wrapped(), extra: 1 }] }, 'validation_failed'],
			[{ keys: Array.from({ length: 101 }, () => ({ to: b!.peerId, wrapped: 'aa' })) }, 'validation_failed'],
			[{ keys: [{ to: b!.peerId, wrapped: 'aa' }, { to: b!.peerId, wrapped: 'bb' }] }, 'validation_failed'],
			['garbage', 'validation_failed'],
		];
		const results: [string, string][] = [];
		for (const [payload] of cases) {
			const reply = await a!.client.requestRaw('e2ee.keys', payload) as { error?: { code: string } };
			results.push([JSON.stringify(payload).slice(0, 50), reply.error?.code ?? 'ok']);
		}
		expect(results).toEqual(cases.map(([payload, code]) => [JSON.stringify(payload).slice(0, 50), code]));
		expect(b!.client.events.filter((e) => e.name === 'e2ee.key')).toEqual([]);

		// Outside any room, and in a room that is no call's.
		const { body } = await api(node, undefined, 'POST', '/api/dev/token', { name: 'Open', room: 'open-room' });
		const open = await connect(body.token as string);
		expect(await open.requestRaw('e2ee.keys', { keys: [{ to: b!.peerId, wrapped: wrapped() }] })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		await open.request('room.join', { roomId: 'open-room', rtpCapabilities: node.pool.routerRtpCapabilities as never });
		expect(await open.requestRaw('e2ee.keys', { keys: [{ to: b!.peerId, wrapped: wrapped() }] })).toMatchObject({ ok: false, error: { code: 'invalid_state' } });

		node.app.keys.withhold = (_from, to) => to.id === b!.peerId;
		expect(await a!.client.request('e2ee.keys', { keys: [{ to: b!.peerId, wrapped: wrapped() }] })).toEqual({ delivered: 0 });
		node.app.keys.withhold = undefined;
		expect(await a!.client.request('e2ee.keys', { keys: [{ to: b!.peerId, wrapped: wrapped() }] })).toEqual({ delivered: 1 });
		await pollUntil('one key arrived', () => b!.client.events.filter((e) => e.name === 'e2ee.key').length === 1);
		// The node kept serving.
		expect((await api(node, undefined, 'GET', '/healthz')).status).toBe(200);
	});
});
