import { api, publishDevice, signup, type TestAccount } from '../helpers/accounts';
import { MediaClient } from '../helpers/mediaClient';
import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { SignalingClient } from '../helpers/signalingClient';

/**
 * PostgreSQL going away under a running node, on a server of this test's own
 * (the run's shared one must stay up): a call in progress keeps its media,
 * account routes and token checks answer 503 `service_unavailable`, nothing
 * acknowledged is lost, and when PostgreSQL is back (after a clean stop or a
 * crash) the node's pool reconnects by itself: sign-in works without
 * restarting the node.
 */

let server: PostgresServer;
let node: TestNode;
const opened: { signaling: SignalingClient; media?: MediaClient }[] = [];

beforeAll(async () => {
	server = await startPostgres();
	const url = await server.createDatabase();
	node = await startTestNode({ media: { workers: 1 }, store: { url, connectTimeoutMs: 1000, queryTimeoutMs: 3000 }, auth: { secret: 'store-outage-test-secret-0123456789abcdef' },
	}, { dev: false });
});

afterAll(async () => {
	for (const { signaling, media } of opened) {
		await media?.close();
		signaling.disconnect();
	}
	await node?.close();
	await server?.destroy();
});

const connect = async (token: string) => {
	const signaling = await SignalingClient.connect(node.url, { token });
	opened.push({ signaling });
	return signaling;
};

/** Packets the callee has received of the caller's audio and video so far. */
async function received(media: MediaClient): Promise<{ audio: number; video: number; frames: number }> {
	const stats = await media.inboundStats();
	const of = (kind: string) => stats.filter((s) => s.kind === kind).reduce((sum, s) => sum + s.packetsReceived, 0);
	return { audio: of('audio'), video: of('video'), frames: stats.reduce((sum, s) => sum + (s.framesDecoded ?? 0), 0) };
}

/** Waits until the callee has received more of both audio and video than `since`. */
async function mediaFlows(media: MediaClient, what: string): Promise<void> {
	const since = await received(media);
	await pollUntil(what, async () => {
		const now = await received(media);
		return now.audio > since.audio + 20 && now.video > since.video + 20 && now.frames > since.frames ? now : undefined;
	}, { timeoutMs: 15_000, intervalMs: 250 });
}

test('PostgreSQL stopped mid-call: 503 service_unavailable for accounts, media goes on; started again: sign-in works with no node restart', async () => {
	const caller = await signup(node, 'outage_caller', 'Caller');
	const callee = await signup(node, 'outage_callee', 'Callee');
	await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
	const callerDevice = await connect(caller.token);
	const calleeDevice = await connect(callee.token);
	const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video', deviceId: await publishDevice(node, caller.token) });
	await calleeDevice.waitFor('call.incoming');
	const accepted = await calleeDevice.request('call.accept', { callId, deviceId: await publishDevice(node, callee.token) });
	const { token: callerRoomToken } = await callerDevice.waitFor('call.accepted');
	const callerMedia = await MediaClient.create(await connect(callerRoomToken));
	const calleeMedia = await MediaClient.create(await connect(accepted.token));
	opened.push({ signaling: callerDevice, media: callerMedia }, { signaling: calleeDevice, media: calleeMedia });
	await callerMedia.join(accepted.roomId, undefined, { e2ee: true });
	await calleeMedia.join(accepted.roomId, undefined, { e2ee: true });
	await callerMedia.produceSynthetic({ audio: true, video: { width: 160, height: 120 }, maxDurationMs: 120_000 });
	await mediaFlows(calleeMedia, 'the callee to receive the caller before the outage');
	expect(await storeMetrics()).toEqual({ available: 1, open: expect.any(Number) });
	expect((await storeMetrics()).open).toBeGreaterThan(0);
	// Acknowledged just before the outage: must be there after it.
	expect((await api(node, caller.token, 'PUT', `/api/me/follows/${callee.handle}`)).status).toBe(204);

	await server.stop();

	// Account routes and the token checks that read sessions: 503 with the new code, a Retry-After, and the node serves on.
	const me = await fetch(`${node.url}/api/me`, { headers: { Authorization: `Bearer ${caller.token}` } });
	expect([me.status, ((await me.json()) as { error: { code: string } }).error.code, me.headers.get('retry-after')]).toEqual([503, 'service_unavailable', '5']);
	expect(await status('POST', '/api/auth/login', { handle: caller.handle, password: passwordOf(caller) })).toEqual([503, 'service_unavailable']);
	expect(await status('POST', '/api/auth/signup', { handle: 'outage_new', password: 'outage new password', displayName: 'New' })).toEqual([503, 'service_unavailable']);
	expect(await status('POST', '/api/auth/refresh', { refreshToken: caller.refreshToken })).toEqual([503, 'service_unavailable']);
	// A new signaling connection is refused with the same code (the token check reads the session).
	await expect(SignalingClient.connect(node.url, { token: caller.token })).rejects.toMatchObject({ code: 'service_unavailable' });
	// A call's room token still opens a connection (a party whose network dropped can come back to its call;
	// the room admits only current parties of the live call, checked in memory).
	// A fresh room token comes from the call as the node holds it, without the store.
	const renewed = await calleeDevice.request('call.token', { callId });
	expect(renewed.roomId).toBe(accepted.roomId);
	const back = await connect(renewed.token);
	expect(await back.request('media.capabilities', {})).toMatchObject({ routerRtpCapabilities: { codecs: expect.any(Array) } });
	back.disconnect();
	expect(node.logLines().some((line) => line.message === 'room token let through unchecked: store unavailable')).toBe(true);
	expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
	// The call's media goes on through the outage.
	await mediaFlows(calleeMedia, 'media to keep flowing while PostgreSQL is down');
	expect(node.logLines().some((line) => line.message === 'request failed: store unavailable')).toBe(true);
	expect((await storeMetrics()).available).toBe(0);

	await server.start();

	// The pool reconnects on its own: sign-in works, old tokens still check out, and the write from before the outage is there.
	const login = await pollUntil('sign-in to work again', async () => {
		const res = await api(node, undefined, 'POST', '/api/auth/login', { handle: caller.handle, password: passwordOf(caller) });
		return res.status === 200 ? res : undefined;
	}, { timeoutMs: 15_000, intervalMs: 250 });
	expect((await api(node, login.body.token, 'GET', '/api/me')).body).toMatchObject({ handle: caller.handle });
	expect((await storeMetrics()).available).toBe(1);
	expect((await api(node, caller.token, 'GET', '/api/me/follows')).body.users).toEqual([{ handle: callee.handle, displayName: 'Callee', verified: false }]);
	await mediaFlows(calleeMedia, 'media to flow after PostgreSQL is back');

	// A crash this time (SIGKILL), not a clean stop; the call ends while PostgreSQL is dead.
	expect((await api(node, callee.token, 'PUT', `/api/me/follows/${caller.handle}`)).status).toBe(204);
	await server.kill();
	expect(await status('GET', '/api/me', undefined, callee.token)).toEqual([503, 'service_unavailable']);
	await callerDevice.request('call.hangup', { callId });
	await calleeDevice.waitFor('call.ended');
	await pollUntil('the history rows to wait for the store', async () => node.logLines().some((line) => line.message === 'call history waiting for the store'),
		{ timeoutMs: 5000, intervalMs: 100 });
	await server.start();

	// What was acknowledged survived the crash; the node reconnects again; the call's history, kept
	// while PostgreSQL was down, is written once it is back, on both sides.
	await pollUntil('sign-in to work after the crash', async () =>
		(await api(node, undefined, 'POST', '/api/auth/login', { handle: callee.handle, password: passwordOf(callee) })).status === 200, { timeoutMs: 15_000, intervalMs: 250 });
	expect((await api(node, callee.token, 'GET', '/api/me/follows')).body.users).toEqual([{ handle: caller.handle, displayName: 'Caller', verified: false }]);
	for (const [account, direction] of [[caller, 'outgoing'], [callee, 'incoming']] as const) {
		const calls = await pollUntil(`the call in the history of ${account.handle}`, async () => {
			const res = await api(node, account.token, 'GET', '/api/me/calls');
			return res.body.calls?.length > 0 ? res.body.calls : undefined;
		}, { timeoutMs: 20_000, intervalMs: 250 });
		expect(calls).toEqual([expect.objectContaining({ callId, direction, outcome: 'answered', media: 'video' })]);
	}
}, 120_000);

/** What /metrics says of the store: available (0/1) and open pool connections. */
async function storeMetrics(): Promise<{ available?: number; open?: number }> {
	const text = await (await fetch(`${node.url}/metrics`)).text();
	return { available: metricValue(text, 'switchyard_store_available{store="postgres"}'), open: metricValue(text, 'switchyard_store_connections{state="total"}') };
}

async function status(method: string, route: string, body?: unknown, token?: string): Promise<[number, string | undefined]> {
	const res = await api(node, token, method, route, body);
	return [res.status, res.body?.error?.code];
}

function passwordOf(account: TestAccount): string {
	return `pw-${account.handle}-secret`;
}
