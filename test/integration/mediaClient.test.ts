import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { Server, type Socket } from 'socket.io';
import { PROTOCOL_VERSION, isRequestName, requests, type Ack, type RequestName } from '../../src/signaling/protocol';
import { MediaClient, type InboundStats } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { SignalingClient, SignalingRequestError } from '../helpers/signalingClient';

// A self-test of the test helpers, without Switchyard's server: a real
// mediasoup worker behind a tiny socket.io server that speaks just enough of
// the protocol (validating every request and reply against its schema) for
// MediaClients to send each other real audio and video.

const CODECS: ms.RtpCodecCapability[] = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, usedtx: 1 } },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

type Peer = {
	id: string;
	socket: Socket;
	roomId?: string;
	rtpCapabilities?: ms.RtpCapabilities;
	transports: Map<string, ms.WebRtcTransport>;
	recv?: ms.WebRtcTransport;
	producers: ms.Producer[];
};

type MiniServer = {
	url: string;
	/** Every consumer made, with the id of the peer it is for. */
	consumers: { peerId: string; consumer: ms.Consumer }[];
	producer(id: string): ms.Producer | undefined;
	/** What each accepted handshake carried. */
	handshakes: { auth: unknown; origin: string | undefined }[];
	/** Errors thrown while serving; a test asserts this stays empty. */
	errors: unknown[];
	close(): Promise<void>;
};

async function startMiniServer(router: ms.Router, webRtcServer: ms.WebRtcServer): Promise<MiniServer> {
	const httpServer = http.createServer();
	const io = new Server(httpServer, { transports: ['websocket'] });
	const peers = new Map<string, Peer>();
	const consumers: MiniServer['consumers'] = [];
	const handshakes: MiniServer['handshakes'] = [];
	const errors: unknown[] = [];
	let nextPeer = 1;

	const roommates = (peer: Peer): Peer[] => [...peers.values()].filter((p) => p !== peer && p.roomId === peer.roomId);

	/** Consumes `producer` for `subscriber` paused, announces it, resumes it on a positive ack. */
	async function consumeFor(subscriber: Peer, publisher: Peer, producer: ms.Producer): Promise<void> {
		if (!subscriber.recv || !subscriber.rtpCapabilities) {
			return;
		}
		const consumer = await subscriber.recv.consume({ producerId: producer.id, rtpCapabilities: subscriber.rtpCapabilities, paused: true });
		consumers.push({ peerId: subscriber.id, consumer });
		const ack = await subscriber.socket.timeout(5000).emitWithAck('consumer.new', {
			consumerId: consumer.id,
			producerId: producer.id,
			peerId: publisher.id,
			kind: consumer.kind,
			source: producer.appData.source,
			rtpParameters: consumer.rtpParameters,
			type: consumer.type,
			producerPaused: consumer.producerPaused,
		}) as Ack<unknown>;
		if (!ack.ok) {
			throw new Error(`consumer.new refused: ${ack.error.code} ${ack.error.message}`);
		}
		await consumer.resume();
	}

	/** Runs after the ack went out, as a server announces consumers after a request. */
	function later(work: () => Promise<void>): void {
		setImmediate(() => work().catch((err: unknown) => errors.push(err)));
	}

	const handlers: Partial<Record<RequestName, (peer: Peer, data: never) => Promise<unknown>>> = {
		'media.capabilities': async () => ({ routerRtpCapabilities: router.rtpCapabilities }),
		'room.join': async (peer, data: { roomId: string; rtpCapabilities: ms.RtpCapabilities }) => {
			peer.roomId = data.roomId;
			peer.rtpCapabilities = data.rtpCapabilities;
			return {
				peerId: peer.id, roomId: data.roomId, resumeToken: 'none', routerRtpCapabilities: router.rtpCapabilities,
				peers: [], transports: [], producers: [],
			};
		},
		'transport.create': async (peer, { direction }: { direction: 'send' | 'recv' }) => {
			const transport = await router.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: true, preferUdp: true });
			peer.transports.set(transport.id, transport);
			if (direction === 'recv') {
				peer.recv = transport;
				later(async () => {
					for (const other of roommates(peer)) {
						for (const producer of other.producers) {
							await consumeFor(peer, other, producer);
						}
					}
				});
			}
			return {
				id: transport.id, direction, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates,
				dtlsParameters: transport.dtlsParameters, iceServers: [], iceTransportPolicy: 'all',
			};
		},
		'transport.connect': async (peer, { transportId, dtlsParameters }: { transportId: string; dtlsParameters: ms.DtlsParameters }) => {
			await peer.transports.get(transportId)!.connect({ dtlsParameters });
			return {};
		},
		'producer.create': async (peer, data: { transportId: string; kind: ms.MediaKind; rtpParameters: ms.RtpParameters; source: string }) => {
			const producer = await peer.transports.get(data.transportId)!.produce({
				kind: data.kind, rtpParameters: data.rtpParameters, appData: { source: data.source },
			});
			peer.producers.push(producer);
			later(async () => {
				for (const other of roommates(peer)) {
					await consumeFor(other, peer, producer);
				}
			});
			return { id: producer.id };
		},
	};

	io.use((socket, next) => {
		const auth = socket.handshake.auth as { token?: string };
		if (auth.token === 'refuse-me') {
			next(Object.assign(new Error('refused'), { data: { code: 'unauthorized', message: 'a valid token is required' } }));
			return;
		}
		handshakes.push({ auth: socket.handshake.auth, origin: socket.handshake.headers.origin });
		next();
	});

	io.on('connection', (socket) => {
		const peer: Peer = { id: `peer-${nextPeer++}`, socket, transports: new Map(), producers: [] };
		peers.set(peer.id, peer);
		socket.on('disconnect', () => {
			peers.delete(peer.id);
			for (const transport of peer.transports.values()) {
				transport.close();
			}
		});
		socket.onAny((name: string, data: unknown, ack: unknown) => {
			if (typeof ack !== 'function') {
				return;
			}
			const handler = isRequestName(name) ? handlers[name] : undefined;
			if (!handler) {
				ack({ ok: false, error: { code: 'not_found', message: `no handler for ${name}` } });
				return;
			}
			const schemas = requests[name as RequestName];
			Promise.resolve()
				.then(() => handler(peer, schemas.request.parse(data) as never))
				.then((result) => ack({ ok: true, data: schemas.response.parse(result) }))
				.catch((err: unknown) => {
					errors.push(err);
					ack({ ok: false, error: { code: 'internal', message: (err as Error).message } });
				});
		});
	});

	await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
	const { port } = httpServer.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		consumers,
		producer: (id) => [...peers.values()].flatMap((p) => p.producers).find((p) => p.id === id),
		handshakes,
		errors,
		close: () => new Promise<void>((resolve) => {
			// Closes every socket, then the HTTP server.
			void io.close(() => resolve());
		}),
	};
}

describe('MediaClient and SignalingClient against a minimal in-test server', () => {
	let worker: ms.Worker;
	let server: MiniServer;
	const signalings: SignalingClient[] = [];
	const medias: MediaClient[] = [];

	beforeAll(async () => {
		const port = await findFreePorts(1);
		worker = await mediasoup.createWorker({ logLevel: 'warn' });
		const webRtcServer = await worker.createWebRtcServer({
			listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port }, { protocol: 'tcp', ip: '127.0.0.1', port }],
		});
		const router = await worker.createRouter({ mediaCodecs: CODECS });
		server = await startMiniServer(router, webRtcServer);
	});

	afterEach(() => {
		expect(server.errors).toEqual([]);
	});

	afterAll(async () => {
		for (const media of medias) {
			await media.close();
		}
		for (const signaling of signalings) {
			signaling.disconnect();
		}
		await server?.close();
		worker?.close();
	});

	async function newClient(token: string, origin?: string): Promise<{ signaling: SignalingClient; media: MediaClient }> {
		const signaling = await SignalingClient.connect(server.url, { token, ...(origin ? { origin } : {}) });
		signalings.push(signaling);
		const media = await MediaClient.create(signaling);
		medias.push(media);
		return { signaling, media };
	}

	test('the handshake carries token, protocol and Origin; a refusal rejects with its data', async () => {
		await newClient('hello', 'https://calls.example');
		expect(server.handshakes.at(-1)).toEqual({ auth: { token: 'hello', protocol: PROTOCOL_VERSION }, origin: 'https://calls.example' });

		await expect(SignalingClient.connect(server.url, { token: 'refuse-me' }))
			.rejects.toEqual({ code: 'unauthorized', message: 'a valid token is required' });
	});

	test('a refused request rejects with its code and message; requestRaw returns the raw ack', async () => {
		const { signaling } = await newClient('refusal');
		const refused = signaling.request('room.leave', {});
		await expect(refused).rejects.toBeInstanceOf(SignalingRequestError);
		await expect(refused).rejects.toMatchObject({ code: 'not_found', message: 'no handler for room.leave' });

		expect(await signaling.requestRaw('transport.connect', { garbage: true })).toMatchObject({ ok: false, error: { code: 'internal' } });
		expect(server.errors.splice(0)).toHaveLength(1);
	});

	test('audio and video from A reach B: packets rise on both ends', async () => {
		const a = await newClient('alice');
		const b = await newClient('bob');
		const joined = await b.media.join('room-1', 'Bob');
		await a.media.join('room-1', 'Alice');
		const produced = await a.media.produceSynthetic({ audio: true, video: { width: 320, height: 240 } });
		expect(produced.audio?.kind).toBe('audio');
		expect(produced.video?.kind).toBe('video');

		await pollUntil('B to consume audio and video', () => b.media.consumers.size === 2);
		const byKind = (stats: InboundStats[], kind: string): InboundStats => stats.find((s) => s.kind === kind)!;
		const first = await pollUntil('first packets at B', async () => {
			const stats = await b.media.inboundStats();
			return stats.length === 2 && stats.every((s) => s.packetsReceived > 0) && stats;
		}, { timeoutMs: 10_000, intervalMs: 100 });
		await pollUntil('packets, bytes and decoded frames rising at B', async () => {
			const stats = await b.media.inboundStats();
			return ['audio', 'video'].every((kind) =>
				byKind(stats, kind).packetsReceived > byKind(first, kind).packetsReceived
				&& byKind(stats, kind).bytesReceived > byKind(first, kind).bytesReceived)
				&& byKind(stats, 'video').framesDecoded! > (byKind(first, 'video').framesDecoded ?? 0);
		}, { timeoutMs: 10_000, intervalMs: 100 });

		// mediasoup's side agrees: each of B's consumers has sent packets.
		const toB = server.consumers.filter((c) => c.peerId === joined.peerId).map((c) => c.consumer);
		expect(toB.map((c) => c.kind).sort()).toEqual(['audio', 'video']);
		for (const consumer of toB) {
			const outbound = (await consumer.getStats()).find((s) => s.type === 'outbound-rtp');
			expect(outbound?.packetCount).toBeGreaterThan(0);
		}

		const announced = b.signaling.events.filter((e) => e.name === 'consumer.new').map((e) => e.data);
		expect(announced).toHaveLength(2);
		expect(announced).toEqual(expect.arrayContaining([
			expect.objectContaining({ kind: 'audio', source: 'mic', producerId: produced.audio!.id }),
			expect.objectContaining({ kind: 'video', source: 'camera', producerId: produced.video!.id }),
		]));
		expect(a.media.consumers.size).toBe(0);
	});

	test('simulcast video arrives at mediasoup as three layers and B decodes one', async () => {
		const a = await newClient('carol');
		const b = await newClient('dave');
		await b.media.join('room-2');
		await a.media.join('room-2');
		// NOTE: libwebrtc drops the top layers of small sources (640x360 sends
		// only r0 and r1): 1280x720 is the size that yields all three.
		const { video } = await a.media.produceSynthetic({ video: { width: 1280, height: 720, simulcast: true } });
		expect(video!.rtpParameters.encodings?.map((e) => e.rid)).toEqual(['r0', 'r1', 'r2']);

		await pollUntil('mediasoup to receive r0, r1 and r2', async () => {
			const stats = await server.producer(video!.id)!.getStats();
			return stats.filter((s) => s.packetCount > 0).map((s) => s.rid).sort().join() === 'r0,r1,r2';
			// NOTE: the encoder starts the top layers as its bandwidth estimate climbs, slower while the suite loads both cores.
		}, { timeoutMs: 30_000, intervalMs: 200 });
		const decoded = await pollUntil('B to decode frames', async () => {
			const stats = (await b.media.inboundStats()).find((s) => s.producerId === video!.id);
			return stats && stats.framesDecoded! > 0 && stats;
		}, { timeoutMs: 10_000, intervalMs: 100 });
		expect(decoded.frameWidth).toBeGreaterThan(0);
	}, 60_000);
});
