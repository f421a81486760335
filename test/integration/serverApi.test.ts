import { SwitchyardApiError, SwitchyardServer } from '../../sdk/src';
import { api } from '../helpers/accounts';
import { apiToken } from '../helpers/apiToken';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

const SECRET = 'backend-secret-of-the-server-api-0123456789';
const MINTER = 'minter-secret-of-the-server-api-0123456789';
const READER = 'reader-secret-of-the-server-api-0123456789';
const NODE_SECRET = 'the-node-own-auth-secret-0123456789abcdef';

// The server API (docs/server-api.md): a backend mints its users' access tokens with a short-lived JWT
// of one of auth.apiKeys, within that key's scopes. The calls go through the Node SDK (sdk/), but for the
// tokens the SDK would never sign.
describe('the server API', () => {
	let node: TestNode;
	/** The SDK's client on `node` as the key `apiKey`. */
	const sdk = (apiKey: string, apiSecret: string, on: TestNode = node) => new SwitchyardServer({ url: on.url, apiKey, apiSecret });
	const backend = () => sdk('backend', SECRET);
	const reader = () => sdk('reader', READER);
	const minter = () => sdk('minter', MINTER);
	/** What a call of the SDK threw. */
	const refusal = (call: Promise<unknown>) => call.then(() => { throw new Error('the call succeeded'); }, (error: unknown) => {
		expect(error).toBeInstanceOf(SwitchyardApiError);
		const { status, code, message } = error as SwitchyardApiError;
		return { status, code, message };
	});
	const clients: SignalingClient[] = [];
	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			// The config's own form (what config/default.yaml and the environment hold): parsed on load.
			auth: { secret: NODE_SECRET, apiKeys: [`backend:${SECRET}`, `minter:${MINTER}:tokens`, `reader:${READER}:read`] as never },
		}, { dev: false });
	});
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
	afterAll(() => node.close());

	const mint = async (token: string | undefined, body: unknown) => api(node, token, 'POST', '/api/v1/tokens', body);

	test('a minted token joins its room as the identity, with its name; it has no account handle; its lifetime is what was asked', async () => {
		const minted = await backend().createToken({ identity: 'user-42', name: 'Ada', rooms: ['standup'], ttlSeconds: 120 });
		expect(minted).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });
		const claims = await node.tokens.verify(minted.token);
		expect(claims).toMatchObject({ sub: 'user-42', name: 'Ada', rooms: ['standup'] });
		expect(claims).not.toHaveProperty('handle');
		expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(100);
		expect(claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(120);
		expect(Math.abs(Date.parse(minted.expiresAt) / 1000 - claims.exp)).toBeLessThanOrEqual(1);
		const client = await SignalingClient.connect(node.url, { token: minted.token });
		clients.push(client);
		expect(await client.requestRaw('room.join', { roomId: 'standup', rtpCapabilities: node.pool.routerRtpCapabilities as never })).toMatchObject({ ok: true });
		expect(await client.requestRaw('room.join', { roomId: 'other', rtpCapabilities: node.pool.routerRtpCapabilities as never })).toMatchObject({ ok: false });
		// A key with only the tokens scope mints too.
		expect(await minter().createToken({ identity: 'user-43', rooms: ['*'] })).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });

		// The room list shows the room, and the participant as the backend named it.
		const listed = await reader().listRooms();
		expect(listed.unreachable).toEqual([]);
		expect(listed.rooms.find((r) => r.roomId === 'standup')).toEqual({
			roomId: 'standup', e2ee: false, nodes: ['this-node'],
			participants: [{ peerId: expect.any(String), identity: 'user-42', name: 'Ada', node: 'this-node', tracks: [] }],
		});
		expect(await refusal(minter().listRooms())).toEqual({ status: 403, code: 'forbidden', message: 'the API key minter lacks the read scope' });
	});

	test('unknown keys, bad signatures, long-lived and expired tokens are refused; a key without the scope is forbidden', async () => {
		const body = { identity: 'user-1', rooms: ['standup'] };
		const invalid = { status: 401, body: { error: { code: 'unauthorized', message: 'invalid API token' } } };
		expect(await mint(undefined, body)).toMatchObject({ status: 401 });
		// An unknown key and another key's secret, through the SDK: a backend's wrong setup.
		expect(await refusal(sdk('nobody', SECRET).createToken(body))).toEqual({ status: 401, ...invalid.body.error });
		expect(await refusal(sdk('backend', MINTER).createToken(body))).toEqual({ status: 401, ...invalid.body.error });
		expect(await mint(await apiToken('backend', SECRET, { seconds: 3600 }), body)).toEqual(invalid);
		expect(await mint('not.a.jwt', body)).toEqual(invalid);
		// A participant's access token is no API token.
		expect(await mint(await node.tokens.issue({ sub: 'backend', rooms: ['*'] }), body)).toEqual(invalid);
		expect(await mint(await apiToken('backend', SECRET, { seconds: 60, iatOffset: -200 }), body))
			.toEqual({ status: 401, body: { error: { code: 'unauthorized', message: 'API token expired' } } });
		expect(await mint(await apiToken('reader', READER), body))
			.toEqual({ status: 403, body: { error: { code: 'forbidden', message: 'the API key reader lacks the tokens scope' } } });
	});

	test('bad bodies get typed errors: reserved rooms, identities, lifetimes, unknown fields', async () => {
		for (const body of [
			{ identity: 'u', rooms: ['call-1234'] }, { identity: 'u', rooms: ['link-abc'] }, { identity: 'u', rooms: [] },
			{ identity: 'has space', rooms: ['a'] }, { identity: 'u', rooms: ['a'], ttlSeconds: 10 }, { identity: 'u', rooms: ['a'], ttlSeconds: 999_999 },
			{ identity: 'u', rooms: ['a'], handle: 'ada' }, { identity: 'u', rooms: ['a'], name: 'A\u202eB' },
		]) {
			expect([body, await refusal(backend().createToken(body as never))]).toEqual([body, { status: 400, code: 'validation_failed', message: expect.any(String) }]);
		}
	});

	test('removing a participant puts it out on room.removed and keeps its older tokens out; a newer token joins; ending a room puts everyone out', async () => {
		const tokenOf = async (identity: string) => (await backend().createToken({ identity, name: identity, rooms: ['removal'] })).token;
		const join = async (token: string) => {
			const client = await SignalingClient.connect(node.url, { token });
			clients.push(client);
			return [client, await client.requestRaw('room.join', { roomId: 'removal', rtpCapabilities: node.pool.routerRtpCapabilities as never })] as const;
		};
		const eveToken = await tokenOf('eve');
		const [eve, eveJoined] = await join(eveToken);
		const [ann] = await join(await tokenOf('ann'));
		expect(eveJoined).toMatchObject({ ok: true });

		await backend().removeParticipant('removal', 'eve');
		expect(await eve.waitFor('room.removed')).toEqual({ reason: 'removed' });
		await ann.waitFor('peer.left');
		expect(ann.events.filter((e) => e.name === 'room.removed')).toEqual([]);
		// Her token opens the room no more, on a new connection too; another room it grants is no matter here.
		expect((await join(eveToken))[1]).toEqual({ ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } });
		// A token minted after the removal (a second later: tokens tell time in seconds) joins.
		await new Promise((resolve) => setTimeout(resolve, 1100));
		expect((await join(await tokenOf('eve')))[1]).toMatchObject({ ok: true });

		await backend().endRoom('removal');
		expect(await ann.waitFor('room.removed')).toEqual({ reason: 'roomEnded' });
		expect((await reader().listRooms()).rooms.find((r) => r.roomId === 'removal')?.participants ?? []).toEqual([]);
		// Ending does not keep anyone out.
		expect((await join(await tokenOf('ann')))[1]).toMatchObject({ ok: true });
		// Only a key with the rooms scope, and only room ids.
		expect(await refusal(reader().endRoom('removal'))).toMatchObject({ status: 403, code: 'forbidden' });
		expect(await refusal(backend().endRoom('bad room'))).toMatchObject({ status: 400, code: 'validation_failed' });
		expect(await refusal(backend().removeParticipant('removal', 'x'.repeat(129)))).toMatchObject({ status: 400, code: 'validation_failed' });
	});

	test('a room created with settings: e2ee only, its cap, its metadata listed, its empty timeout; bad bodies refused', async () => {
		const create = async (body: unknown, key = 'backend', secret = SECRET) => api(node, await apiToken(key, secret), 'POST', '/api/v1/rooms', body);
		const settings = { maxParticipants: 1, emptyTimeoutSeconds: 2, e2ee: true, metadata: '{"topic":"board"}' };
		expect(await backend().createRoom('made', settings)).toEqual({ roomId: 'made', settings });
		const tokenOf = async (identity: string) => (await backend().createToken({ identity, rooms: ['made'] })).token;
		const join = async (token: string, e2ee: boolean) => {
			const client = await SignalingClient.connect(node.url, { token });
			clients.push(client);
			return client.requestRaw('room.join', { roomId: 'made', e2ee, rtpCapabilities: node.pool.routerRtpCapabilities as never });
		};
		expect(await join(await tokenOf('ann'), false)).toMatchObject({ ok: false, error: { code: 'e2ee_mismatch' } });
		expect(await join(await tokenOf('ann'), true)).toMatchObject({ ok: true });
		expect(await join(await tokenOf('ben'), true)).toMatchObject({ ok: false, error: { code: 'room_full' } });
		expect((await reader().listRooms()).rooms.find((r) => r.roomId === 'made')?.settings).toEqual(settings);
		// Empty, it stays open for its emptyTimeoutSeconds (not rooms.emptyCloseGraceMs), then closes.
		for (const client of clients.splice(0)) {
			await client.requestRaw('room.leave', {});
			client.disconnect();
		}
		await pollUntil('the peer left', () => node.registry.get('made')?.peers.size === 0, { timeoutMs: 5000 });
		const emptyAt = Date.now();
		await pollUntil('the room closed', () => node.registry.get('made') === undefined, { timeoutMs: 10_000 });
		expect(Date.now() - emptyAt).toBeGreaterThan(1000);
		// A plain room is none of this.
		expect(await create({ roomId: 'plain-made' })).toEqual({ status: 201, body: { roomId: 'plain-made', settings: { emptyTimeoutSeconds: 300, e2ee: false } } });

		for (const bad of [{ roomId: 'call-x' }, { roomId: 'bad room' }, { roomId: 'r', maxParticipants: 0 }, { roomId: 'r', emptyTimeoutSeconds: 86_401 }, { roomId: 'r', metadata: 'x'.repeat(1025) }, { roomId: 'r', owner: 'me' }, {}]) {
			expect(await create(bad)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
		}
		expect(await create({ roomId: 'r' }, 'reader', READER)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
	});

	test('a node without API keys has no server API: 404', async () => {
		const plain = await startTestNode({ media: { workers: 1 }, auth: { secret: NODE_SECRET } }, { dev: false });
		try {
			expect(await refusal(sdk('backend', SECRET, plain).createToken({ identity: 'u', rooms: ['a'] }))).toMatchObject({ status: 404, code: 'not_found' });
		} finally {
			await plain.close();
		}
	});
});
