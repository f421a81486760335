import { MediaClient } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { startRedis, type RedisServer } from '../helpers/redis';
import { SignalingClient } from '../helpers/signalingClient';
import { fleetAccount, fleetDevice } from './accounts';
import { showingOutput, startFleet, type Fleet, type FleetNode } from './fleet';

/**
 * A fleet's Redis restarted under a call (docs/cluster.md, "When Redis goes
 * away"): the fleet runs on a Redis of this test's own, which it stops and
 * starts again empty (no persistence, as the test harness runs it). The call
 * keeps its media, every node's /readyz says cluster_unavailable while Redis
 * is down, cross-node work fails with service_unavailable, and once Redis is
 * back a new call rings across nodes with no node restarted.
 */

let redis: RedisServer | undefined;
let fleet: Fleet | undefined;
const clients: SignalingClient[] = [];
const media: MediaClient[] = [];

beforeAll(async () => {
	redis = await startRedis();
	fleet = await startFleet({ size: 2, redisUrl: redis.url, env: { SWITCHYARD_ACCOUNTS_SIGNUPS_PER_HOUR: '1000', SWITCHYARD_ACCOUNTS_LOGINS_PER_MINUTE: '1000' } });
}, 100_000);
afterAll(async () => {
	for (const client of media) {
		await client.close();
	}
	clients.forEach((client) => client.disconnect());
	await fleet?.close();
	await redis?.destroy();
});

async function readiness(node: FleetNode): Promise<{ status: number; reason?: string }> {
	const res = await fetch(`${node.url}/readyz`);
	return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
}

/** Packets `client` has received of audio and video so far. */
async function received(client: MediaClient): Promise<{ audio: number; video: number }> {
	const stats = await client.inboundStats();
	const of = (kind: string) => stats.filter((s) => s.kind === kind).reduce((sum, s) => sum + s.packetsReceived, 0);
	return { audio: of('audio'), video: of('video') };
}

async function mediaFlows(client: MediaClient, what: string): Promise<void> {
	const since = await received(client);
	await pollUntil(what, async () => {
		const now = await received(client);
		return now.audio > since.audio + 20 && now.video > since.video + 20 ? now : undefined;
	}, { timeoutMs: 15_000, intervalMs: 250 });
}

test('Redis restarted mid-call: the call keeps media, /readyz says cluster_unavailable while it is down, and a new call rings across nodes once it is back', showingOutput(() => fleet, async () => {
	const [one, two] = fleet!.nodes as [FleetNode, FleetNode];
	const caller = await fleetAccount(one, 'outage_caller');
	const callee = await fleetAccount(one, 'outage_callee', [caller]);
	const callerDevice = await fleetDevice(one, caller, clients);
	const calleeDevice = await fleetDevice(one, callee, clients);
	// The call, placed and answered through node-1, its media flowing.
	const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video', deviceId: callerDevice.deviceId });
	await calleeDevice.waitFor('call.incoming');
	const accepted = await calleeDevice.request('call.accept', { callId, deviceId: calleeDevice.deviceId });
	const { token: callerRoomToken } = await callerDevice.waitFor('call.accepted');
	const connect = async (token: string) => {
		const client = await SignalingClient.connect(one.url, { token });
		clients.push(client);
		return client;
	};
	const callerMedia = await MediaClient.create(await connect(callerRoomToken));
	const calleeMedia = await MediaClient.create(await connect(accepted.token));
	media.push(callerMedia, calleeMedia);
	await callerMedia.join(accepted.roomId, undefined, { e2ee: true });
	await calleeMedia.join(accepted.roomId, undefined, { e2ee: true });
	await callerMedia.produceSynthetic({ audio: true, video: { width: 160, height: 120 }, maxDurationMs: 120_000 });
	await mediaFlows(calleeMedia, 'the callee to receive the caller before the outage');
	// Someone who can only be rung on node-2.
	const far = await fleetAccount(two, 'outage_far', [caller]);
	const farDevice = await fleetDevice(two, far, clients);

	await redis!.stop();
	for (const node of [one, two]) {
		expect(await pollUntil(`${node.id} to say cluster_unavailable`, async () => {
			const ready = await readiness(node);
			return ready.status === 503 ? ready : undefined;
		}, { timeoutMs: 5000, intervalMs: 50 })).toEqual({ status: 503, reason: 'cluster_unavailable' });
	}
	await mediaFlows(calleeMedia, 'media to keep flowing while Redis is down');
	// Cross-node work waits for Redis: an invite to a callee who is only on node-2.
	expect(await callerDevice.requestRaw('call.invite', { to: [far.handle], media: 'audio' }))
		.toMatchObject({ ok: false, error: { code: 'service_unavailable' } });

	await redis!.start();
	for (const node of [one, two]) {
		await pollUntil(`${node.id} to be ready again`, async () => (await readiness(node)).status === 200 || undefined, { timeoutMs: 10_000, intervalMs: 100 });
	}
	await mediaFlows(calleeMedia, 'media to flow after Redis is back');
	// Redis came back empty: each node has published its devices and calls again, so a call across nodes rings.
	const again = await pollUntil('a new call across nodes to ring', async () => {
		const reply = await callerDevice.requestRaw('call.invite', { to: [far.handle], media: 'audio' }) as { ok: boolean; data?: { callId: string } };
		return reply.ok ? reply.data! : undefined;
	}, { timeoutMs: 10_000, intervalMs: 250 });
	expect(await farDevice.waitFor('call.incoming', (e) => e.callId === again.callId)).toMatchObject({ callId: again.callId, waiting: false });
	await farDevice.request('call.decline', { callId: again.callId });
	await callerDevice.waitFor('call.declined', (e) => e.callId === again.callId);
	// The call that went through the outage ends as a call does.
	await callerDevice.request('call.hangup', { callId });
	await calleeDevice.waitFor('call.ended', (e) => e.callId === callId);
}));
