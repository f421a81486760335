import fc from 'fast-check';
import { requests } from '../../src/signaling/protocol';
import { api, signup } from '../helpers/accounts';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';

// Seeded and bounded: CI runs these seeds; `npm run fuzz` runs longer ones.
const SEEDS = (process.env.FUZZ_SEEDS ?? '1,2,3').split(',').map(Number);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

const REQUEST_NAMES = Object.keys(requests);
const HTTP_ROUTES: [string, string][] = [
	['POST', '/api/dev/token'], ['POST', '/api/auth/signup'], ['POST', '/api/auth/login'], ['POST', '/api/auth/refresh'],
	['POST', '/api/auth/logout'], ['GET', '/api/me'], ['DELETE', '/api/me'], ['POST', '/api/me/password'],
	['GET', '/api/me/settings'], ['PATCH', '/api/me/settings'], ['GET', '/api/me/calls'], ['GET', '/api/users?q=a'],
	['PUT', '/api/me/contacts/someone'], ['DELETE', '/api/me/follows/someone'], ['PUT', '/api/me/blocks/x'],
	['PUT', '/api/admin/users/someone'], ['GET', '/healthz'], ['GET', '/readyz'],
];

/** Anything JSON can carry, deep and odd, plus shapes close to real payloads. */
const payload = fc.oneof(
	fc.anything({ maxDepth: 4, maxKeys: 6, withNullPrototype: false }),
	fc.record({
		roomId: fc.oneof(fc.string(), fc.constant('fuzz-room')),
		rtpCapabilities: fc.oneof(fc.anything({ maxDepth: 3 }), fc.record({ codecs: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }) })),
	}, { requiredKeys: [] }),
	fc.record({
		transportId: fc.string(), producerId: fc.string(), consumerId: fc.string(), callId: fc.string(),
		direction: fc.constantFrom('send', 'recv', 'both', ''), kind: fc.constantFrom('audio', 'video', 'x'),
		source: fc.constantFrom('mic', 'camera', 'screen', '?'), to: fc.array(fc.string(), { maxLength: 3 }),
		spatialLayer: fc.integer(), dtlsParameters: fc.anything({ maxDepth: 2 }), rtpParameters: fc.anything({ maxDepth: 3 }),
	}, { requiredKeys: [] }),
);

describe('fuzzing every socket.io request and HTTP route', () => {
	let node: TestNode;

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 1 },
			rooms: { emptyCloseGraceMs: 50, reconnectGraceMs: 50 },
			accounts: { signupsPerHour: 100_000, loginsPerMinute: 100_000, searchesPerMinute: 100_000 },
		});
	});
	afterAll(() => node.close());

	test.each(SEEDS)('seed %i: random requests on a joined and an unjoined connection, then a real session works', async (seed) => {
		const token = await node.tokens.issue({ sub: `fuzz-${seed}`, rooms: ['*'] });
		const account = await signup(node, `fuzzer_${seed}`);
		const joined = await SignalingClient.connect(node.url, { token, requestTimeoutMs: 10000 });
		const fresh = await SignalingClient.connect(node.url, { token: account.token, requestTimeoutMs: 10000 });
		for (const client of [joined, fresh]) {
			client.onConsumerNew(() => undefined);
		}
		try {
			const { routerRtpCapabilities } = await joined.request('media.capabilities', {});
			await joined.request('room.join', { roomId: 'fuzz-room', rtpCapabilities: routerRtpCapabilities as never });
			const send = await joined.request('transport.create', { direction: 'send' });
			await joined.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(seed) as never, source: 'mic' });

			await fc.assert(fc.asyncProperty(
				fc.constantFrom(...REQUEST_NAMES, 'no.such.request', '__proto__', 'constructor'),
				payload, fc.boolean(),
				async (name, data, onJoined) => {
					const reply = await (onJoined ? joined : fresh).requestRaw(name, data) as { ok: boolean; error?: { code: string; message: string } };
					// Every reply is an ack of the documented shape; never a stack trace, never internal.
					expect(typeof reply.ok).toBe('boolean');
					if (!reply.ok) {
						expect(reply.error!.code).not.toBe('internal');
						expect(reply.error!.message).not.toMatch(/\n\s+at /);
					}
				},
			), { seed, numRuns: RUNS });

			await fc.assert(fc.asyncProperty(
				fc.constantFrom(...HTTP_ROUTES), fc.oneof(payload, fc.string()), fc.boolean(),
				async ([method, path], body, withToken) => {
					const res = await api(node, withToken ? account.token : undefined, method, path.replace('someone', `fuzzer_${seed}`),
						method === 'GET' || method === 'HEAD' ? undefined : typeof body === 'string' ? body : JSON.stringify(body ?? null)).catch((error: Error) => ({ status: 0, body: error.message }));
					expect(res.status).toBeGreaterThanOrEqual(200);
					expect(res.status).toBeLessThan(500);
				},
			), { seed, numRuns: Math.round(RUNS / 3) });
		} finally {
			joined.disconnect();
			fresh.disconnect();
		}

		// Nothing leaked: once the fuzzed peers are gone, no mediasoup object is left.
		await pollUntil('the fuzz room closed', () => node.registry.size === 0, { timeoutMs: 5000 }).catch((error: Error) => {
			const left = [...node.registry.rooms()].map((room) => ({ id: room.id, peers: [...room.peers.values()].map((p) => ({ sub: p.claims.sub, connected: p.link !== undefined })) }));
			throw new Error(`${error.message}: ${JSON.stringify(left)}`);
		});
		expect(await poolObjects(node.pool)).toEqual({ routers: 0, webRtcTransports: 0, consumers: 0, producers: 0, transports: 0 });
		expect(node.pool.workers).toHaveLength(1);
		expect(node.pool.restarts).toBe(0);

		// And a real session still works.
		const alice = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: 'alice', rooms: ['*'] }) });
		const bob = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: 'bob', rooms: ['*'] }) });
		try {
			bob.onConsumerNew(() => undefined);
			const { routerRtpCapabilities } = await alice.request('media.capabilities', {});
			await alice.request('room.join', { roomId: 'after-fuzz', rtpCapabilities: routerRtpCapabilities as never });
			await bob.request('room.join', { roomId: 'after-fuzz', rtpCapabilities: routerRtpCapabilities as never });
			await bob.request('transport.create', { direction: 'recv' });
			const send = await alice.request('transport.create', { direction: 'send' });
			await alice.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(777) as never, source: 'mic' });
			await bob.waitFor('consumer.new');
		} finally {
			alice.disconnect();
			bob.disconnect();
		}
		await pollUntil('rooms closed', () => node.registry.size === 0, { timeoutMs: 5000 });
	}, 120_000);
});
