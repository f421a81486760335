import { api, login, publishDevice, signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { storeSql } from '../helpers/storeSql';

// NOTE: long, so that a peer still there after a moment has not left.
const GRACE_MS = 60_000;

// A login session that ends takes its live connections with it: a token that
// no longer authenticates must not keep a socket, a room seat or media.
describe('live connections end with their login session', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { reconnectGraceMs: GRACE_MS } });
	});
	afterEach(() => {
		for (const client of clients.splice(0)) {
			client.disconnect();
		}
	});
	afterAll(async () => {
		await node.close();
	});

	async function connect(token: string): Promise<SignalingClient> {
		const client = await SignalingClient.connect(node.url, { token });
		clients.push(client);
		return client;
	}

	const ended = (client: SignalingClient) => client.events.find((e) => e.name === 'session.ended')?.data;

	test('logout: that session\'s connection gets session.ended and closes; another session\'s stays', async () => {
		const alice = await signup(node, 'ended_alice');
		const other = await connect(await login(node, alice));
		const mine = await connect(alice.token);

		expect((await api(node, alice.token, 'POST', '/api/auth/logout')).status).toBe(204);
		await pollUntil('session.ended, then the connection closed', () => ended(mine)?.reason === 'loggedOut' && !mine.connected);
		expect(other.connected).toBe(true);
		expect(ended(other)).toBeUndefined();
		// The ended session's token opens no new connection.
		await expect(connect(alice.token)).rejects.toMatchObject({ code: 'unauthorized' });
	});

	test('password change ends the other sessions\' connections, not the one that changed it', async () => {
		const carol = await signup(node, 'ended_carol');
		const stolen = await connect(await login(node, carol));
		const mine = await connect(carol.token);
		const res = await api(node, carol.token, 'POST', '/api/me/password', { currentPassword: 'pw-ended_carol-secret', newPassword: 'a-new-password-1' });
		expect(res.status).toBe(204);
		await pollUntil('the other session ended', () => ended(stolen)?.reason === 'loggedOut' && !stolen.connected);
		expect(mine.connected).toBe(true);
	});

	test('a call\'s room token ends with the login session it was issued to: a logout takes that device out of the call', async () => {
		const gina = await signup(node, 'ended_gina');
		const hank = await signup(node, 'ended_hank');
		await api(node, hank.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } });
		// Gina calls from her laptop; she is also signed in on her phone (another session).
		const laptop = await connect(gina.token);
		const phoneToken = await login(node, gina);
		const phone = await connect(phoneToken);
		const hankDevice = await connect(hank.token);
		const { callId } = await laptop.request('call.invite', { to: [hank.handle], media: 'audio', deviceId: await publishDevice(node, gina.token) });
		await hankDevice.waitFor('call.incoming');
		const accepted = await hankDevice.request('call.accept', { callId, deviceId: await publishDevice(node, hank.token) });
		const { token: ginaRoomToken } = await laptop.waitFor('call.accepted');
		const ginaRoom = await connect(ginaRoomToken);
		const hankRoom = await connect(accepted.token);
		for (const [client, displayName] of [[ginaRoom, 'Gina'], [hankRoom, 'Hank']] as const) {
			await client.request('room.join', { roomId: accepted.roomId, rtpCapabilities: node.pool.routerRtpCapabilities as never, displayName, e2ee: true });
		}

		// Logging out on the laptop ends its room connection at once (not after the grace) and its room token.
		expect((await api(node, gina.token, 'POST', '/api/auth/logout')).status).toBe(204);
		await pollUntil('the laptop\'s account and room connections ended', () =>
			[laptop, ginaRoom].every((c) => ended(c)?.reason === 'loggedOut' && !c.connected));
		await pollUntil('hank sees gina leave', () => hankRoom.events.some((e) => e.name === 'peer.left'));
		await expect(connect(ginaRoomToken)).rejects.toMatchObject({ code: 'unauthorized' });
		expect(hankRoom.connected).toBe(true);
		expect(phone.connected).toBe(true);
	});

	test('deletion ends every connection of the account, room tokens too; other accounts keep theirs', async () => {
		const dave = await signup(node, 'ended_dave');
		const erin = await signup(node, 'ended_erin');
		const account = await connect(dave.token);
		// A call's room token: the account's id and handle, no login session.
		const roomToken = await node.tokens.issue({ sub: dave.id, handle: dave.handle, rooms: ['ended-2'] });
		const room = await connect(roomToken);
		const other = await connect(await node.tokens.issue({ sub: erin.id, rooms: ['ended-2'] }));
		for (const [client, displayName] of [[room, 'Dave'], [other, 'Erin']] as const) {
			await client.request('room.join', { roomId: 'ended-2', rtpCapabilities: node.pool.routerRtpCapabilities as never, displayName });
		}
		const bystander = await connect(erin.token);

		expect((await api(node, dave.token, 'DELETE', '/api/me', { password: 'pw-ended_dave-secret' })).status).toBe(204);
		await pollUntil('both of dave\'s connections ended', () =>
			[account, room].every((c) => ended(c)?.reason === 'accountDeleted' && !c.connected));
		// At once, not after the reconnect grace: dave's peer left, and erin saw it.
		await pollUntil('erin sees dave leave', () => other.events.some((e) => e.name === 'peer.left'));
		expect(node.registry.get('ended-2')!.peers.size).toBe(1);
		expect(bystander.connected).toBe(true);
		// The room token opens nothing any more.
		await expect(connect(roomToken)).rejects.toMatchObject({ code: 'unauthorized' });
	});

	/** Makes every retired refresh token of the node's store a minute older: out of the reuse grace. */
	async function aMinuteLater(): Promise<void> {
		await storeSql(node, 'UPDATE retired_refresh_tokens SET retired_at = retired_at - 60000');
	}

	test('a refresh token used again after its rotation revokes the session and ends its connections; seconds after, it gets the same answer', async () => {
		const frank = await signup(node, 'ended_frank');
		const socket = await connect(frank.token);
		const refresh = (refreshToken: string) => api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken });
		const second = await refresh(frank.refreshToken);
		expect(second.status).toBe(200);

		// At once (two tabs refreshing together): the same refresh token again, nothing revoked.
		const again = await refresh(frank.refreshToken);
		expect([again.status, again.body.refreshToken]).toEqual([200, second.body.refreshToken]);
		const third = await refresh(second.body.refreshToken);
		expect(third.status).toBe(200);
		expect(socket.connected).toBe(true);

		// Later: a copy of the replaced token is being used. As if a minute passed since the rotation:
		await aMinuteLater();
		expect((await refresh(second.body.refreshToken)).status).toBe(401);
		await pollUntil('the session\'s connection ended', () => ended(socket)?.reason === 'loggedOut' && !socket.connected);
		// The whole session is gone: its latest refresh token and its access tokens too.
		expect((await refresh(third.body.refreshToken)).status).toBe(401);
		expect((await api(node, third.body.token, 'GET', '/api/me')).status).toBe(401);
	});

	test('a refresh token from before an earlier rotation revokes the session at once: a thief who refreshed twice is found out', async () => {
		const gwen = await signup(node, 'ended_gwen');
		const refresh = (refreshToken: string) => api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken });
		// The thief copies the first refresh token and refreshes twice; then Gwen's own copy comes back.
		const thief = await refresh(gwen.refreshToken);
		const thiefAgain = await refresh(thief.body.refreshToken);
		expect(thiefAgain.status).toBe(200);
		const socket = await connect(thiefAgain.body.token);
		expect((await refresh(gwen.refreshToken)).status).toBe(401);
		await pollUntil('the session\'s connection ended', () => ended(socket)?.reason === 'loggedOut' && !socket.connected);
		expect((await refresh(thiefAgain.body.refreshToken)).status).toBe(401);
		expect((await api(node, thiefAgain.body.token, 'GET', '/api/me')).status).toBe(401);
	});

	// The thief copied the victim's refresh token and rotated it seconds before the victim's own
	// scheduled refresh. The victim is not signed out: it gets the thief's refresh token too. From then
	// on both hold one token, and whoever rotates it first makes the other's next refresh a reuse.
	// NOTE: the node cannot tell the two apart (one token), so one order covers both.
	test('a thief who rotates first: the victim\'s refresh within the grace gets the same refresh token; the next rotation makes the other side\'s refresh a reuse that revokes the session', async () => {
		const victim = await signup(node, 'thief_victim');
		const refresh = (refreshToken: string) => api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken });
		const stolen = victim.refreshToken;
		const thief = await refresh(stolen);
		expect(thief.status).toBe(200);
		const mine = await refresh(stolen);
		expect([mine.status, mine.body.refreshToken]).toEqual([200, thief.body.refreshToken]);
		expect((await api(node, mine.body.token, 'GET', '/api/me')).status).toBe(200);
		const victimSocket = await connect(mine.body.token);
		const thiefSocket = await connect(thief.body.token);

		// One of them refreshes with the shared token (say an hour on, when its access token runs out);
		// the other does so later still (more than the grace after): a copy of a retired token, so the
		// session ends for both.
		const shared = thief.body.refreshToken as string;
		const rotated = await refresh(shared);
		expect(rotated.status).toBe(200);
		await aMinuteLater();
		expect((await refresh(shared)).status).toBe(401);
		await pollUntil('both sides\' connections ended', () =>
			[victimSocket, thiefSocket].every((c) => ended(c)?.reason === 'loggedOut' && !c.connected));
		expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
		for (const token of [rotated.body.token, thief.body.token, mine.body.token]) {
			expect((await api(node, token, 'GET', '/api/me')).status).toBe(401);
		}
	});

	test('an honest client retrying a refresh whose answer was lost, or two tabs refreshing at once, get one new refresh token and go on', async () => {
		const ivy = await signup(node, 'ended_ivy');
		const refresh = (refreshToken: string) => api(node, undefined, 'POST', '/api/auth/refresh', { refreshToken });
		const socket = await connect(ivy.token);
		const lost = await refresh(ivy.refreshToken);
		const retried = await refresh(ivy.refreshToken);
		expect([retried.status, retried.body.refreshToken]).toEqual([200, lost.body.refreshToken]);
		expect(await node.tokens.verify(retried.body.token)).toMatchObject({ sub: ivy.id, sid: (await node.tokens.verify(lost.body.token)).sid });

		const tabs = await Promise.all([refresh(retried.body.refreshToken), refresh(retried.body.refreshToken)]);
		expect(tabs.map((t) => t.status)).toEqual([200, 200]);
		expect(tabs[1]!.body.refreshToken).toBe(tabs[0]!.body.refreshToken);
		expect(tabs[0]!.body.refreshToken).not.toBe(retried.body.refreshToken);

		// The session goes on, and the next refresh rotates as usual.
		const next = await refresh(tabs[0]!.body.refreshToken);
		expect(next.status).toBe(200);
		for (const token of [next.body.token, ...tabs.map((t) => t.body.token as string)]) {
			expect((await api(node, token, 'GET', '/api/me')).status).toBe(200);
		}
		expect(socket.connected).toBe(true);
		expect(ended(socket)).toBeUndefined();
	});
});
