import type { TestDevice } from '../helpers/accounts';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { fleetAccount, fleetDevice, type FleetAccount as Account } from './accounts';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * Calls across three real node processes of one fleet (docs/cluster.md): a
 * call placed on one node rings the callee's devices on the others, every
 * outcome reaches every device wherever it is connected, history is written
 * once by the node that owns the call, and a dead owner's calls are taken
 * over by another node.
 */

const RING_SECONDS = 6;
let fleet: Fleet | undefined;
const clients: SignalingClient[] = [];

beforeAll(async () => {
	fleet = await startFleet({
		size: 3,
		env: {
			SWITCHYARD_ACCOUNTS_SIGNUPS_PER_HOUR: '1000',
			SWITCHYARD_ACCOUNTS_LOGINS_PER_MINUTE: '1000',
			SWITCHYARD_CALLS_RING_TIMEOUT_SECONDS: String(RING_SECONDS),
			SWITCHYARD_CALLS_INVITES_PER_MINUTE: '1000',
			SWITCHYARD_CALLS_UNANSWERED_PER_DAY: '1000',
		},
	});
}, 100_000);
afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));
afterAll(async () => {
	await fleet?.close();
});

function nodes(): [FleetNode, FleetNode, FleetNode] {
	return fleet!.nodes as [FleetNode, FleetNode, FleetNode];
}

const account = fleetAccount;
const device = (node: FleetNode, of: Account) => fleetDevice(node, of, clients);

/** The account's history rows of call `callId`, as [direction, outcome], asked of `node`. */
async function history(node: FleetNode, account: Account, callId: string): Promise<[string, string][]> {
	const res = await node.api('GET', '/api/me/calls?limit=50', { token: account.token });
	expect(res.status).toBe(200);
	return (res.body.calls as { callId: string; direction: string; outcome: string }[])
		.filter((row) => row.callId === callId).map((row) => [row.direction, row.outcome]);
}

/** Waits until both sides' history of `callId` is what is expected, each row once. */
async function historyIs(node: FleetNode, caller: Account, callerRows: [string, string][], callee: Account, calleeRows: [string, string][], callId: string): Promise<void> {
	const want = JSON.stringify([callerRows, calleeRows]);
	await pollUntil(`history of ${callId} to be ${want}`, async () => {
		const rows = JSON.stringify([await history(node, caller, callId), await history(node, callee, callId)]);
		return rows === want ? rows : undefined;
	}, { timeoutMs: 10_000, intervalMs: 200 });
	// Once, and no more later.
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(JSON.stringify([await history(node, caller, callId), await history(node, callee, callId)])).toBe(want);
}

/**
 * A caller signed up and connected on `callerAt`, a callee (who has it as a contact) with a device on
 * each of `calleeAt`, and the caller's invite ringing all of them.
 */
async function ringing<N extends FleetNode[]>(callerAt: FleetNode, calleeAt: [...N], media: 'audio' | 'video') {
	const caller = await account(callerAt, 'caller');
	const callee = await account(calleeAt[0]!, 'callee', [caller]);
	const callerDevice = await device(callerAt, caller);
	const devices = await Promise.all(calleeAt.map((node) => device(node, callee))) as { [K in keyof N]: TestDevice };
	const { callId, invited } = await callerDevice.request('call.invite', { to: [callee.handle], media, deviceId: callerDevice.deviceId });
	const incoming = await Promise.all(devices.map((d) => d.waitFor('call.incoming')));
	return { caller, callee, callerDevice, devices, callId, invited, incoming };
}

test('the caller on node-1, the callee on node-2 and node-3: both ring; answered on node-3, node-2 hears answeredElsewhere and the caller accepted; history once', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const { caller, callee, callerDevice, devices: [phone, laptop], callId, invited, incoming } = await ringing(one, [two, three], 'video');
	expect(invited).toEqual({ [callee.handle]: 'ringing' });
	for (const data of incoming) {
		expect(data).toEqual({ callId, from: { handle: caller.handle, displayName: caller.handle, verified: false }, media: 'video', waiting: false, e2ee: true });
	}
	await callerDevice.waitFor('call.ringing');

	const accepted = await laptop.request('call.accept', { callId, deviceId: laptop.deviceId });
	expect(accepted).toMatchObject({ callId, roomId: `call-${callId}`, token: expect.any(String) });
	expect(await phone.waitFor('call.answeredElsewhere')).toEqual({ callId });
	// Not to the device that answered.
	expect(laptop.events.filter((e) => e.name === 'call.answeredElsewhere')).toEqual([]);
	expect(await callerDevice.waitFor('call.accepted')).toMatchObject({ callId, handle: callee.handle, roomId: accepted.roomId });
	// The call's room: the callee's answering session may join it, through node-3 (which may send it to the room's node).
	let room = await SignalingClient.connect(three.url, { token: accepted.token });
	clients.push(room);
	const { routerRtpCapabilities } = await room.request('media.capabilities', {});
	let joined = await room.requestRaw('room.join', { roomId: accepted.roomId, rtpCapabilities: routerRtpCapabilities, e2ee: true }) as { ok: boolean; error?: { code: string; details?: { url: string } } };
	if (!joined.ok && joined.error?.code === 'room_elsewhere') {
		room.disconnect();
		room = await SignalingClient.connect(joined.error.details!.url, { token: accepted.token });
		clients.push(room);
		joined = await room.requestRaw('room.join', { roomId: accepted.roomId, rtpCapabilities: routerRtpCapabilities, e2ee: true }) as typeof joined;
	}
	expect(joined).toMatchObject({ ok: true });
	// A fresh room token through node-3, from the call's owner on node-1.
	expect(await laptop.request('call.token', { callId })).toMatchObject({ roomId: accepted.roomId });
	expect(await phone.requestRaw('call.token', { callId })).toMatchObject({ ok: false, error: { code: 'not_found' } });

	await laptop.request('call.hangup', { callId });
	expect(await callerDevice.waitFor('call.left')).toEqual({ callId, handle: callee.handle });
	await callerDevice.waitFor('call.ended');
	// Its peer is put out of the room with the call, wherever the room is.
	expect(await room.waitFor('room.removed')).toEqual({ reason: 'hangup' });
	await historyIs(two, caller, [['outgoing', 'answered']], callee, [['incoming', 'answered']], callId);
}));

test('decline, cancel and the ring timeout on another node reach every device; call waiting across nodes', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const caller = await account(one, 'caller');
	const other = await account(two, 'other');
	const callee = await account(three, 'callee', [caller, other]);
	const callerDevice = await device(one, caller);
	const otherDevice = await device(two, other);
	const phone = await device(two, callee);
	const laptop = await device(three, callee);

	// Declined on node-2: the caller hears it, node-3 stops ringing.
	const declined = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	await laptop.waitFor('call.incoming', (e) => e.callId === declined.callId);
	await phone.waitFor('call.incoming', (e) => e.callId === declined.callId);
	await phone.request('call.decline', { callId: declined.callId });
	expect(await callerDevice.waitFor('call.declined')).toEqual({ callId: declined.callId, handle: callee.handle });
	expect(await laptop.waitFor('call.ended', (e) => e.callId === declined.callId)).toEqual({ callId: declined.callId, reason: 'declinedElsewhere' });

	// Cancelled on node-1: both stop ringing.
	const cancelled = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	await laptop.waitFor('call.incoming', (e) => e.callId === cancelled.callId);
	await phone.waitFor('call.incoming', (e) => e.callId === cancelled.callId);
	await callerDevice.request('call.cancel', { callId: cancelled.callId });
	for (const ringing of [phone, laptop]) {
		expect(await ringing.waitFor('call.cancelled', (e) => e.callId === cancelled.callId)).toEqual({ callId: cancelled.callId });
	}

	// Not answered: both hear missed, the caller noAnswer.
	const missed = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	for (const ringing of [phone, laptop]) {
		await ringing.waitFor('call.missed', (e) => e.callId === missed.callId, RING_SECONDS * 1000 + 5000);
	}
	await callerDevice.waitFor('call.noAnswer', (e) => e.callId === missed.callId);

	// Call waiting: in a call owned by node-1, the callee is rung from node-2 as waiting; answering it ends the first.
	const first = await callerDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	await laptop.waitFor('call.incoming', (e) => e.callId === first.callId);
	await laptop.request('call.accept', { callId: first.callId });
	await callerDevice.waitFor('call.accepted', (e) => e.callId === first.callId);
	const second = await otherDevice.request('call.invite', { to: [callee.handle], media: 'audio' });
	expect(await phone.waitFor('call.incoming', (e) => e.callId === second.callId)).toMatchObject({ waiting: true });
	await phone.request('call.accept', { callId: second.callId });
	expect(await callerDevice.waitFor('call.left', (e) => e.callId === first.callId)).toEqual({ callId: first.callId, handle: callee.handle });
	await otherDevice.waitFor('call.accepted', (e) => e.callId === second.callId);
	await otherDevice.request('call.hangup', { callId: second.callId });
	await phone.waitFor('call.ended', (e) => e.callId === second.callId);

	await historyIs(one, caller, [['outgoing', 'declined']], callee, [['incoming', 'declined']], declined.callId);
	await historyIs(one, caller, [['outgoing', 'cancelled']], callee, [['incoming', 'missed']], cancelled.callId);
	await historyIs(two, caller, [['outgoing', 'no_answer']], callee, [['incoming', 'missed']], missed.callId);
	await historyIs(three, caller, [['outgoing', 'answered']], callee, [['incoming', 'answered']], first.callId);
	await historyIs(three, other, [['outgoing', 'answered']], callee, [['incoming', 'answered']], second.callId);
}));

test('an active call whose owner is killed goes on: the callee hangs up on another node and both histories say answered', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const { caller, callee, callerDevice, devices: [calleeDevice], callId } = await ringing(three, [two], 'audio');
	await calleeDevice.request('call.accept', { callId });
	await callerDevice.waitFor('call.accepted');

	await three.kill('SIGKILL');
	// Taken over by node-1 or node-2 once node-3 is gone: the callee's hang-up reaches it.
	await pollUntil('the hang-up to reach the call\'s new owner', async () => {
		const reply = await calleeDevice.requestRaw('call.hangup', { callId }) as { ok: boolean; error?: { code: string } };
		if (!reply.ok && reply.error?.code !== 'service_unavailable') {
			throw new Error(`call.hangup: ${JSON.stringify(reply)}`);
		}
		return reply.ok ? true : undefined;
	}, { timeoutMs: 10_000, intervalMs: 200 });
	await calleeDevice.waitFor('call.ended');
	await historyIs(one, caller, [['outgoing', 'answered']], callee, [['incoming', 'answered']], callId);
	await fleet!.restart(2);
}));

test('the owner of a ringing call killed: the callee\'s devices on the other nodes stop ringing within the ring timeout; both histories say missed', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const { caller, callee, devices: [phone, laptop], callId } = await ringing(one, [two, three], 'video');
	const rangAt = Date.now();

	await one.kill('SIGKILL');
	const stopped = await Promise.all([phone, laptop].map(async (ringing) => {
		await ringing.waitFor('call.missed', (e) => e.callId === callId, RING_SECONDS * 1000);
		return Date.now() - rangAt;
	}));
	process.stdout.write(`[calls.test] owner node-1 killed while ringing: devices on node-2 and node-3 stopped ringing after ${stopped.join(' and ')} ms `
		+ `(ring timeout ${RING_SECONDS * 1000} ms, heartbeat ${fleet!.heartbeatMs} ms)\n`);
	expect(Math.max(...stopped)).toBeLessThan(RING_SECONDS * 1000);
	// The caller's outgoing row says no answer, the callee's incoming row missed: the history API's words for a missed call.
	await historyIs(two, caller, [['outgoing', 'no_answer']], callee, [['incoming', 'missed']], callId);
	await fleet!.restart(0);
}));

test('a logout on node-2 ends the connections made with that session on node-3, and no other', showingOutput(() => fleet, async () => {
	const [, two, three] = nodes();
	const user = await account(two, 'leaver');
	const login = await two.api('POST', '/api/auth/login', { body: { handle: user.handle, password: `pw-${user.handle}-secret` } });
	const leaving = await SignalingClient.connect(three.url, { token: login.body.token as string });
	const staying = await SignalingClient.connect(three.url, { token: user.token });
	clients.push(leaving, staying);
	expect((await two.api('POST', '/api/auth/logout', { token: login.body.token as string })).status).toBe(204);
	expect(await leaving.waitFor('session.ended')).toEqual({ reason: 'loggedOut' });
	await pollUntil('the logged-out connection to close', async () => !leaving.socket.connected || undefined, { timeoutMs: 5000, intervalMs: 50 });
	expect(staying.socket.connected).toBe(true);
	expect(await staying.request('media.capabilities', {})).toMatchObject({ routerRtpCapabilities: expect.any(Object) });
}));

test('a block made on node-3 stops a ringing call owned by node-1 on the callee\'s devices; the caller just hears no answer', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const { caller, callee, callerDevice, devices: [phone], callId } = await ringing(one, [two], 'audio');
	expect((await three.api('PUT', `/api/me/blocks/${caller.handle}`, { token: callee.token })).status).toBe(204);
	expect(await phone.waitFor('call.cancelled', (e) => e.callId === callId)).toEqual({ callId });
	// Nothing tells the caller about the block: its side rings until the timeout, like any unanswered call.
	expect(callerDevice.events.filter((e) => e.name === 'call.declined' || e.name === 'call.noAnswer')).toEqual([]);
	await callerDevice.waitFor('call.noAnswer', (e) => e.callId === callId, RING_SECONDS * 1000 + 5000);
}));

test('issue 26: a silenced caller on node-1: the callee\'s devices on node-2 and node-3 get call.silenced, not a ring; the history says silenced once; the caller sees unavailable', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const caller = await account(one, 'hushed_caller');
	const callee = await account(two, 'hushing_callee');
	const patched = await two.api('PATCH', '/api/me/settings', { token: callee.token, body: { calls: { silenceOthers: true } } });
	expect(patched.status).toBe(200);
	const callerDevice = await device(one, caller);
	const devices = [await device(two, callee), await device(three, callee)];
	expect(await callerDevice.requestRaw('call.invite', { to: [callee.handle], media: 'video' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
	for (const d of devices) {
		expect(await d.waitFor('call.silenced')).toEqual({ callId: expect.any(String), from: { handle: caller.handle, displayName: caller.handle, verified: false }, media: 'video' });
		expect(d.events.filter((e) => e.name === 'call.incoming')).toEqual([]);
	}
	const rows = async () => (await three.api('GET', '/api/me/calls', { token: callee.token })).body.calls as { other: { handle: string }; outcome: string }[];
	await pollUntil('the silenced row', async () => (await rows()).length === 1);
	expect((await rows()).map((r) => [r.other.handle, r.outcome])).toEqual([[caller.handle, 'silenced']]);
}));

test('issue 26: a knock on a call link through node-1 reaches the owner\'s devices on node-2 and node-3; the owner admits on node-3 and the guest learns it through node-2; a denial\'s cool-down holds on every node', showingOutput(() => fleet, async () => {
	const [one, two, three] = nodes();
	const owner = await account(one, 'fleet_link_owner');
	const id = (await one.api('POST', '/api/me/links', { token: owner.token, body: { admit: 'owner', title: 'Fleet' } })).body.id as string;
	const devices = [await device(two, owner), await device(three, owner)];
	const knocked = await one.api('POST', `/api/links/${id}/join`, { body: { name: 'Grace' } });
	expect(knocked.status).toBe(202);
	const { knockId } = knocked.body as { knockId: string };
	for (const d of devices) {
		expect(await d.waitFor('link.knock')).toEqual({ linkId: id, knockId, title: 'Fleet', name: 'Grace', verified: false, guest: true });
	}
	expect((await two.api('GET', `/api/me/links/${id}/knocks`, { token: owner.token })).body).toEqual({ knocks: [expect.objectContaining({ knockId })] });
	expect((await two.api('GET', `/api/links/${id}/knocks/${knockId}`)).body).toEqual({ state: 'waiting' });
	expect((await three.api('POST', `/api/me/links/${id}/knocks/${knockId}`, { token: owner.token, body: { admit: true } })).status).toBe(204);
	for (const d of devices) {
		expect(await d.waitFor('link.knockEnded')).toEqual({ linkId: id, knockId });
	}
	// Answered once, across the fleet.
	expect((await one.api('POST', `/api/me/links/${id}/knocks/${knockId}`, { token: owner.token, body: { admit: false } })).status).toBe(404);
	expect((await two.api('GET', `/api/links/${id}/knocks/${knockId}`)).body).toEqual({ state: 'admitted', roomId: expect.stringMatching(/^link-/), token: expect.any(String) });

	const denied = (await two.api('POST', `/api/links/${id}/join`, { body: { name: 'Mallory' } })).body.knockId as string;
	expect((await one.api('POST', `/api/me/links/${id}/knocks/${denied}`, { token: owner.token, body: { admit: false } })).status).toBe(204);
	expect((await three.api('GET', `/api/links/${id}/knocks/${denied}`)).body).toEqual({ state: 'denied' });
	for (const node of [one, two, three]) {
		expect((await node.api('POST', `/api/links/${id}/join`, { body: { name: 'Mallory' } })).status).toBe(429);
	}
}));
