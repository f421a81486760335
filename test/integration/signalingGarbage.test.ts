import * as jose from 'jose';
import { io as connectSocket } from 'socket.io-client';
import { requests, PROTOCOL_VERSION, type RequestName } from '../../src/signaling/protocol';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';

const HUGE = 'x'.repeat(1024 * 1024);
const OPUS_CAPABILITY = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };

/** Payloads no request accepts. */
const GARBAGE: unknown[] = [
	undefined, null, 0, 42, 'text', true, [], [1, 2, 3],
	{ roomId: 123 }, { transportId: {} }, { producerId: null }, { consumerId: ['a'] },
	{ roomId: HUGE }, { transportId: 'abc', dtlsParameters: HUGE },
	{ __proto__: { polluted: true }, roomId: 'r' }, { constructor: { prototype: { polluted: true } } },
	{ roomId: '../../etc/passwd', rtpCapabilities: { codecs: 'all' } },
	{ direction: 'sideways' }, { kind: 'smell', source: 'mic', transportId: 'x', rtpParameters: {} },
	// Text that would reach other peers: in their SDP (codec parameters) or their pages (display names).
	{ roomId: 'r', rtpCapabilities: { codecs: [OPUS_CAPABILITY] }, displayName: 'Eve\r\nMallory' },
	{ roomId: 'r', rtpCapabilities: { codecs: [{ ...OPUS_CAPABILITY, parameters: { 'x\r\na=candidate:1 1 udp 1 127.0.0.99 9 typ host': 1 } }] } },
	{ transportId: 'x', kind: 'audio', source: 'mic', rtpParameters: { ...opusParameters(1), codecs: [{ ...opusParameters(1).codecs[0], parameters: { minptime: '10\r\na=x' } }] } },
	{ transportId: 'x', kind: 'audio', source: 'mic', rtpParameters: { ...opusParameters(1), mid: '0\r\na=x' } },
];

type Ack = { ok: boolean; error?: { code: string; message: string } };

describe('garbage on every request', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, rooms: { emptyCloseGraceMs: 100, reconnectGraceMs: 100 }, log: { level: 'debug' } });
	});
	afterAll(async () => {
		clients.forEach((c) => c.disconnect());
		await node.close();
	});

	async function connect(name: string): Promise<SignalingClient> {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
		client.onConsumerNew(() => undefined);
		clients.push(client);
		return client;
	}

	async function joinWithMedia(client: SignalingClient, roomId: string, ssrc: number) {
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		const joined = await client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never });
		const send = await client.request('transport.create', { direction: 'send' });
		const recv = await client.request('transport.create', { direction: 'recv' });
		const mic = await client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(ssrc) as never, source: 'mic' });
		return { joined, send, recv, mic };
	}

	test('malformed payloads get validation_failed (or payload_too_large) on every request, before and after join', async () => {
		const client = await connect('fuzzy');
		for (const phase of ['before join', 'after join']) {
			if (phase === 'after join') {
				await joinWithMedia(client, 'garbage-room', 5000);
			}
			for (const name of Object.keys(requests) as RequestName[]) {
				for (const payload of GARBAGE) {
					const ack = await client.requestRaw(name, payload) as Ack;
					expect(ack.ok).toBe(false);
					expect(['validation_failed', 'payload_too_large']).toContain(ack.error!.code);
					expect(ack.error!.message).not.toMatch(/\n\s+at /);
				}
			}
		}
	});

	test('a message over signaling.maxMessageBytes closes only its own connection', async () => {
		const bystander = await connect('bystander');
		const flooder = await connect('flooder');
		const closed = new Promise<string>((resolve) => flooder.socket.on('disconnect', resolve));
		flooder.socket.emit('room.join', { roomId: HUGE.repeat(3) });
		expect(await closed).toBe('transport close');
		expect(await bystander.request('media.capabilities', {})).toHaveProperty('routerRtpCapabilities');
	});

	test('unknown requests, missing acks, extra arguments and requests before room.join', async () => {
		const client = await connect('early');
		// Without an ack nothing can be answered, and nothing is done.
		client.socket.emit('room.join', { roomId: 'no-ack', rtpCapabilities: {} });
		expect(await client.requestRaw('room.destroyEverything', {})).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(await client.requestRaw('transport.create', { direction: 'send' }, 'extra')).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		for (const [name, payload] of [
			['transport.create', { direction: 'send' }],
			['transport.connect', { transportId: 'abc', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }],
			['producer.create', { transportId: 'abc', kind: 'audio', rtpParameters: opusParameters(1), source: 'mic' }],
			['consumer.resume', { consumerId: 'abc' }],
			['room.leave', {}],
		] as const) {
			expect(await client.requestRaw(name, payload)).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		}
		expect(await client.requestRaw('room.resume', { resumeToken: 'nope' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
	});

	test("unknown ids and other peers' ids are not found; wrong-direction and duplicate requests are refused", async () => {
		const alice = await connect('alice');
		const bob = await connect('bob');
		const a = await joinWithMedia(alice, 'ids', 6000);
		const b = await joinWithMedia(bob, 'ids', 7000);
		const foreign = [
			['transport.connect', { transportId: b.send.id, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }],
			['transport.restartIce', { transportId: b.recv.id }],
			['transport.close', { transportId: b.send.id }],
			['producer.pause', { producerId: b.mic.id }],
			['producer.close', { producerId: b.mic.id }],
			['producer.create', { transportId: b.send.id, kind: 'video', rtpParameters: vp8Parameters(1), source: 'camera' }],
			['consumer.resume', { consumerId: b.mic.id }],
			['consumer.setPreferredLayers', { consumerId: 'unknown', spatialLayer: 1 }],
		] as const;
		for (const [name, payload] of foreign) {
			expect(await alice.requestRaw(name, payload)).toMatchObject({ ok: false, error: { code: 'not_found' } });
		}
		// Bob's objects are untouched.
		expect(node.registry.get('ids')!.peers.get(b.joined.peerId)!.producers.get(b.mic.id)!.paused).toBe(false);

		expect(await alice.requestRaw('producer.create', { transportId: a.recv.id, kind: 'video', rtpParameters: vp8Parameters(1), source: 'camera' }))
			.toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		expect(await alice.requestRaw('producer.create', { transportId: a.send.id, kind: 'audio', rtpParameters: opusParameters(6001), source: 'mic' }))
			.toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		expect(await alice.requestRaw('producer.create', { transportId: a.send.id, kind: 'audio', rtpParameters: opusParameters(6002), source: 'camera' }))
			.toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		// Parameters zod accepts but mediasoup refuses: a codec the router lacks.
		const bogus = { ...vp8Parameters(6003), codecs: [{ mimeType: 'video/AV2', payloadType: 99, clockRate: 90000 }] };
		expect(await alice.requestRaw('producer.create', { transportId: a.send.id, kind: 'video', rtpParameters: bogus, source: 'camera' }))
			.toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		expect(await alice.requestRaw('transport.connect', { transportId: a.send.id, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'not hex' }] } }))
			.toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		// Parameters the worker refuses (an SSRC already in use) are the client's fault, not internal.
		expect(await alice.requestRaw('producer.create', { transportId: a.send.id, kind: 'video', rtpParameters: vp8Parameters(6000), source: 'camera' }))
			.toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		// Connecting a transport twice, even before DTLS starts.
		const fingerprint = { fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] };
		await alice.request('transport.connect', { transportId: a.recv.id, dtlsParameters: fingerprint as never });
		expect(await alice.requestRaw('transport.connect', { transportId: a.recv.id, dtlsParameters: fingerprint }))
			.toMatchObject({ ok: false, error: { code: 'invalid_state' } });
		for (let i = 0; i < 2; i++) {
			await alice.request('transport.create', { direction: 'recv' });
		}
		expect(await alice.requestRaw('transport.create', { direction: 'recv' })).toMatchObject({ ok: false, error: { code: 'limit_exceeded' } });
	});

	test('handshakes without a valid token, with another protocol version or from a foreign origin are refused with a code', async () => {
		const good = await node.tokens.issue({ sub: 'x', rooms: ['*'] });
		const expired = await node.tokens.issue({ sub: 'x', rooms: ['*'] }, -60);
		const forged = await new jose.SignJWT({ rooms: ['*'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x')
			.setExpirationTime('1h').sign(new TextEncoder().encode('a different secret of 32+ characters!'));
		const cases: [string, Record<string, unknown>, Record<string, string>, string][] = [
			['no auth', {}, {}, 'unauthorized'],
			['no token', { protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['expired token', { token: expired, protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['forged token', { token: forged, protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['garbage token', { token: HUGE.slice(0, 5000), protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['empty token', { token: '', protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['oversized token', { token: HUGE.slice(0, 9000), protocol: PROTOCOL_VERSION }, {}, 'unauthorized'],
			['stale client', { token: good, protocol: PROTOCOL_VERSION + 1 }, {}, 'unsupported_protocol'],
			['no protocol', { token: good }, {}, 'unsupported_protocol'],
		];
		for (const [what, auth, headers, code] of cases) {
			const socket = connectSocket(node.url, { transports: ['websocket'], auth, extraHeaders: headers, reconnection: false });
			const error = await new Promise<{ data?: { code: string } }>((resolve) => socket.on('connect_error', resolve));
			socket.close();
			expect([what, error.data?.code]).toEqual([what, code]);
		}
		// A foreign Origin is refused before the handshake (socket.io's allowRequest).
		const foreign = connectSocket(node.url, { transports: ['polling'], auth: { token: good, protocol: PROTOCOL_VERSION }, extraHeaders: { Origin: 'https://evil.example' }, reconnection: false });
		const refused = await new Promise<Error>((resolve) => foreign.on('connect_error', resolve));
		foreign.close();
		expect(refused.message).toMatch(/xhr poll error|origin/i);
		expect((await fetch(`${node.url}/api/dev/token`, { method: 'POST', headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' }, body: '{"name":"x"}' })).status).toBe(403);
	});

	test('afterwards the node serves a real session and no mediasoup object leaked', async () => {
		clients.splice(0).forEach((c) => c.disconnect());
		await pollUntil('every room closed', () => node.registry.size === 0, { timeoutMs: 3000 });
		expect(await poolObjects(node.pool)).toEqual({ routers: 0, webRtcTransports: 0, consumers: 0, producers: 0, transports: 0 });

		const alice = await connect('alice-again');
		const bob = await connect('bob-again');
		await joinWithMedia(alice, 'after', 8000);
		await joinWithMedia(bob, 'after', 9000);
		await pollUntil('each consumes the other', () => alice.events.some((e) => e.name === 'consumer.new') && bob.events.some((e) => e.name === 'consumer.new'));
		expect(node.registry.get('no-ack')).toBeUndefined();
	});

	test('no token reaches the logs', async () => {
		const token = await node.tokens.issue({ sub: 'secretive', rooms: ['*'] });
		const client = await SignalingClient.connect(node.url, { token });
		clients.push(client);
		await client.requestRaw('room.join', { roomId: 'x', rtpCapabilities: { codecs: 'bad' }, token });
		const logged = JSON.stringify(node.logLines());
		expect(logged.length).toBeGreaterThan(0);
		expect(logged).not.toContain(token.split('.')[2]);
	});
});

describe('the dev token route', () => {
	let node: TestNode;
	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 } });
	});
	afterAll(() => node.close());

	test('issues a token for a valid body and refuses bad ones with a code', async () => {
		const post = (body: string) => fetch(`${node.url}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
		const ok = await post(JSON.stringify({ name: 'Ada', room: 'standup' }));
		expect(ok.status).toBe(200);
		const { token } = await ok.json() as { token: string };
		expect(await node.tokens.verify(token)).toMatchObject({ name: 'Ada', rooms: ['standup'] });

		for (const [body, status, code] of [
			['{', 400, 'validation_failed'],
			['{}', 400, 'validation_failed'],
			[JSON.stringify({ name: 42 }), 400, 'validation_failed'],
			[JSON.stringify({ name: 'x', room: 'no spaces allowed' }), 400, 'validation_failed'],
			[JSON.stringify({ name: 'x', admin: true }), 400, 'validation_failed'],
			[JSON.stringify({ name: 'Eve\r\nMallory' }), 400, 'validation_failed'],
			[JSON.stringify({ name: 'Eve\u202eyrollaM' }), 400, 'validation_failed'],
			[JSON.stringify({ name: HUGE }), 413, 'payload_too_large'],
		] as const) {
			const res = await post(body);
			expect([body.slice(0, 40), res.status, (await res.json() as { error: { code: string } }).error.code]).toEqual([body.slice(0, 40), status, code]);
		}
	});
});
