import { api, device, login, signup, type TestAccount } from '../helpers/accounts';
import { startTestNode, type TestNode } from '../helpers/node';
import type { SignalingClient } from '../helpers/signalingClient';

const COOL_DOWN_SECONDS = 2;
const ADMIN_TOKEN = 'lobby-admin-token-'.padEnd(40, 'x');
const NO_SUCH_LINK = { error: { code: 'not_found', message: 'no such call link' } };
const NO_SUCH_KNOCK = { error: { code: 'not_found', message: 'no such knock' } };
const TOKEN = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const ROOM = /^link-[\w-]{32}$/;

// The lobby of call links (docs/http-api.md, call links): a link that admits anyone, and its owner
// always, are in at once; anyone else knocks, every device of the owner hears it (link.knock), the
// owner admits or denies, and the knocker learns it by asking. The link's room takes only a token
// for exactly it, and only end-to-end encrypted peers. A denied address waits before it knocks again.
describe('the lobby of call links', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	let counter = 0;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			auth: { adminToken: ADMIN_TOKEN },
			accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000, searchesPerMinute: 10_000, relationWritesPerMinute: 10_000 },
			links: { knockCoolDownSeconds: COOL_DOWN_SECONDS, knocksPerMinute: 10_000 },
		});
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	const account = (prefix: string, displayName?: string): Promise<TestAccount> => signup(node, `${prefix}_${++counter}`, displayName);
	const link = async (owner: TestAccount, admit: 'anyone' | 'owner'): Promise<string> =>
		(await api(node, owner.token, 'POST', '/api/me/links', { admit, title: 'Standup' })).body.id;
	const join = (id: string, body: unknown, token?: string) => api(node, token, 'POST', `/api/links/${id}/join`, body);
	const knock = (id: string, knockId: string) => api(node, undefined, 'GET', `/api/links/${id}/knocks/${knockId}`);
	const answer = (owner: TestAccount, id: string, knockId: string, admit: boolean) =>
		api(node, owner.token, 'POST', `/api/me/links/${id}/knocks/${knockId}`, { admit });
	const joinRoom = async (token: string, roomId: string, e2ee = true) =>
		(await device(node, { token }, clients)).requestRaw('room.join', { roomId, rtpCapabilities: node.pool.routerRtpCapabilities as never, e2ee });

	test('a link that admits anyone: a guest and an account are in at once; the room takes their tokens, end to end encrypted only, and marks who is who', async () => {
		const ada = await account('lobby_ada', 'Ada');
		const id = await link(ada, 'anyone');
		const guest = await join(id, { name: '  Grace  ' });
		expect(guest).toEqual({ status: 200, body: { state: 'admitted', roomId: expect.stringMatching(ROOM), token: expect.stringMatching(TOKEN) } });
		// The room id is a digest: it does not give the link away.
		expect(guest.body.roomId).not.toContain(id);
		// A verified account: its next login's token says so.
		const bob = await account('lobby_bob', 'Bob');
		expect((await api(node, ADMIN_TOKEN, 'PUT', `/api/admin/users/${bob.handle}`, { verified: true })).status).toBe(200);
		const member = await join(id, {}, await login(node, bob));
		expect(member).toMatchObject({ status: 200, body: { state: 'admitted', roomId: guest.body.roomId } });

		expect(await joinRoom(guest.body.token, guest.body.roomId, false)).toMatchObject({ ok: false, error: { code: 'e2ee_mismatch' } });
		expect(await joinRoom(guest.body.token, guest.body.roomId)).toMatchObject({ ok: true, data: { peers: [] } });
		const joined = await joinRoom(member.body.token, member.body.roomId);
		expect(joined).toMatchObject({ ok: true });
		const [grace] = (joined as { data: { peers: { displayName: string; handle?: string }[] } }).data.peers;
		expect(grace).toMatchObject({ displayName: 'Grace', e2ee: true });
		expect(grace).not.toHaveProperty('handle');
		// clients: Grace's refused connection, Grace's, Bob's.
		const bobSeen = await clients[1]!.waitFor('peer.joined');
		expect(bobSeen.peer).toMatchObject({ displayName: 'Bob', handle: bob.handle, verified: true });

		// No other token joins it: not one for any room, nor one for another link's room.
		const any = await node.tokens.issue({ sub: 'someone', name: 'Eve', rooms: ['*'] });
		expect(await joinRoom(any, guest.body.roomId)).toEqual({ ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } });
		const other = await join(await link(ada, 'anyone'), { name: 'Eve' });
		expect(await joinRoom(other.body.token, guest.body.roomId)).toEqual({ ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } });
		// And the dev route hands out none.
		expect((await api(node, undefined, 'POST', '/api/dev/token', { name: 'Eve', room: guest.body.roomId })).status).toBe(400);
	});

	test('a link whose owner admits each person: the guest knocks and waits, the owner\'s devices hear it, the owner admits, the guest gets in', async () => {
		const ada = await account('lobby_ada');
		const id = await link(ada, 'owner');
		const [phone, laptop] = [await device(node, ada, clients), await device(node, ada, clients)];
		const knocked = await join(id, { name: 'Grace' });
		expect(knocked).toEqual({ status: 202, body: { state: 'waiting', knockId: expect.stringMatching(/^[\w-]{22}$/) } });
		const { knockId } = knocked.body;
		const heard = { linkId: id, knockId, title: 'Standup', name: 'Grace', verified: false, guest: true };
		expect(await phone.waitFor('link.knock')).toEqual(heard);
		expect(await laptop.waitFor('link.knock')).toEqual(heard);
		expect(await api(node, ada.token, 'GET', `/api/me/links/${id}/knocks`)).toEqual({ status: 200, body: { knocks: [heard] } });
		expect(await knock(id, knockId)).toEqual({ status: 200, body: { state: 'waiting' } });

		// Only the owner answers, once; then every device of the owner drops it.
		const bob = await account('lobby_bob');
		expect(await answer(bob, id, knockId, true)).toEqual({ status: 404, body: NO_SUCH_LINK });
		expect(await api(node, bob.token, 'GET', `/api/me/links/${id}/knocks`)).toEqual({ status: 404, body: NO_SUCH_LINK });
		expect((await answer(ada, id, knockId, true)).status).toBe(204);
		expect(await phone.waitFor('link.knockEnded')).toEqual({ linkId: id, knockId });
		expect(await laptop.waitFor('link.knockEnded')).toEqual({ linkId: id, knockId });
		expect(await answer(ada, id, knockId, false)).toEqual({ status: 404, body: NO_SUCH_KNOCK });
		expect((await api(node, ada.token, 'GET', `/api/me/links/${id}/knocks`)).body).toEqual({ knocks: [] });

		const admitted = await knock(id, knockId);
		expect(admitted).toEqual({ status: 200, body: { state: 'admitted', roomId: expect.stringMatching(ROOM), token: expect.stringMatching(TOKEN) } });
		expect(await joinRoom(admitted.body.token, admitted.body.roomId)).toMatchObject({ ok: true });
		// The owner is in at once; another account knocks, by its handle.
		expect(await join(id, {}, ada.token)).toMatchObject({ status: 200, body: { state: 'admitted', roomId: admitted.body.roomId } });
		const bobKnock = await join(id, { name: 'ignored' }, bob.token);
		expect(bobKnock.status).toBe(202);
		expect(await phone.waitFor('link.knock', (k) => k.knockId === bobKnock.body.knockId))
			.toEqual({ linkId: id, knockId: bobKnock.body.knockId, title: 'Standup', name: bob.handle, handle: bob.handle, verified: false, guest: false });
		// A knock of another link is not this link's.
		expect(await knock(await link(ada, 'owner'), knockId)).toEqual({ status: 404, body: NO_SUCH_KNOCK });
	});

	test('a denied guest is told so, stays out, and may not knock on that link again until the cool-down is over; a withdrawn knock is dropped', async () => {
		const ada = await account('lobby_ada');
		const id = await link(ada, 'owner');
		const phone = await device(node, ada, clients);
		const first = (await join(id, { name: 'Mallory' })).body.knockId;
		expect((await answer(ada, id, first, false)).status).toBe(204);
		expect(await knock(id, first)).toEqual({ status: 200, body: { state: 'denied' } });
		expect(await join(id, { name: 'Mallory' })).toEqual({ status: 429, body: { error: { code: 'rate_limited', message: 'you may not knock on this link again yet; try again later' } } });
		// Another link of the owner's takes the knock: the cool-down is per link.
		expect((await join(await link(ada, 'owner'), { name: 'Mallory' })).status).toBe(202);
		await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_SECONDS * 1000 + 200));
		const again = await join(id, { name: 'Mallory' });
		expect(again.status).toBe(202);

		expect((await api(node, undefined, 'DELETE', `/api/links/${id}/knocks/${again.body.knockId}`)).status).toBe(204);
		expect(await phone.waitFor('link.knockEnded', (k) => k.knockId === again.body.knockId)).toEqual({ linkId: id, knockId: again.body.knockId });
		expect(await knock(id, again.body.knockId)).toEqual({ status: 404, body: NO_SUCH_KNOCK });
		expect(await answer(ada, id, again.body.knockId, true)).toEqual({ status: 404, body: NO_SUCH_KNOCK });
	});

	test('a revoked, unknown and malformed link answer the same; bad input gets typed errors', async () => {
		const ada = await account('lobby_ada');
		const revoked = await link(ada, 'owner');
		await api(node, ada.token, 'DELETE', `/api/me/links/${revoked}`);
		const answers = await Promise.all([revoked, 'A'.repeat(22), 'not-a-link!'].map((id) => join(id, { name: 'Grace' })));
		expect(answers).toEqual([{ status: 404, body: NO_SUCH_LINK }, { status: 404, body: NO_SUCH_LINK }, { status: 404, body: NO_SUCH_LINK }]);

		const id = await link(ada, 'owner');
		expect(await join(id, {})).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		expect(await join(id, { name: 'Grace', extra: 1 })).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		expect(await join(id, { name: 'Gr\u202eace' })).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		expect(await join(id, { name: 'Grace' }, 'not.a.token')).toMatchObject({ status: 401 });
		const roomToken = (await join(await link(ada, 'anyone'), { name: 'Grace' })).body.token;
		expect(await join(id, {}, roomToken)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
		expect(await knock(id, 'short')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		expect(await api(node, undefined, 'DELETE', `/api/links/${id}/knocks/short`)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		expect(await api(node, ada.token, 'GET', '/api/me/links/not-a-link!/knocks')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		const { knockId } = (await join(id, { name: 'Grace' })).body;
		expect(await api(node, ada.token, 'POST', `/api/me/links/${id}/knocks/${knockId}`, { admit: 'yes' })).toMatchObject({ status: 400 });
		expect(await api(node, ada.token, 'POST', `/api/me/links/${id}/knocks/${knockId}`, {})).toMatchObject({ status: 400 });
		expect(await api(node, undefined, 'POST', `/api/me/links/${id}/knocks/${knockId}`, { admit: true })).toMatchObject({ status: 401 });
		expect(await knock(id, knockId)).toEqual({ status: 200, body: { state: 'waiting' } });
	});
});
