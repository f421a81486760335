/**
 * The bare-mediasoup harness: the same synthetic load straight into one
 * mediasoup worker, with no Switchyard: a router per room, the same codecs
 * and PlainTransport options as Room.createPlainTransport, consumers created
 * unpaused. With WebRTC receivers the worker has a WebRtcServer of its own
 * (UDP and TCP on one port, as WorkerPool makes them) and each subscriber a
 * WebRtcTransport on it with Peer.createWebRtcTransport's options. What Switchyard adds on top (signaling, paused-then-resumed
 * consumers, the active speaker observer, the policy, stats sampling) is
 * what the ratio of the two runs measures.
 */
import { MEDIA_CODECS, mediasoup, type ms } from '../../src/media';
import type { Kind } from './capture';
import type { Pacer } from './publisher';
import { opusParameters, vp8Parameters } from '../../test/helpers/rtp';
import type { LoadReceiver, WebRtcReceivers } from './receivers';
import type { PeerSpec } from './scenarios';
import { newSrtpParameters } from './srtp';
import { findFreePorts } from '../../test/helpers/ports';
import type { LoadTarget } from './target';

const MAX_INCOMING_BITRATE = 3_000_000;
/** config/default.yaml's media.initialAvailableOutgoingBitrate, as a node's transports get it. */
const INITIAL_OUTGOING_BITRATE = 1_000_000;

type BareRoom = { router: ms.Router; producers: ms.Producer[]; receivers: Receiver[] };
/** A subscriber's transport and the producers it consumes (marked before the await: no double consumer in a race). */
type Receiver = { transport: ms.PlainTransport | ms.WebRtcTransport; load?: LoadReceiver; peer: number; consumed: Set<ms.Producer> };

type BareWebRtc = { server: ms.WebRtcServer; receivers: WebRtcReceivers };

export type BareTargetOptions = {
	pacer: Pacer;
	/** Where the next plain subscriber sends (the sink's counting or discard socket). */
	sink: () => { ip: string; port: number };
	ip?: string;
	/** WebRTC receivers through a WebRtcServer; plain transports to the sink without. */
	receivers?: WebRtcReceivers;
};

export class BareTarget implements LoadTarget {
	readonly description: string;
	readonly #worker: ms.Worker;
	readonly #webRtc: BareWebRtc | undefined;
	readonly #pacer: Pacer;
	/** Where the next subscriber sends (the sink's counting or discard socket). */
	readonly #sink: () => { ip: string; port: number };
	readonly #ip: string;
	/** Promises, so that peers of a new room added at once share one router. */
	readonly #rooms = new Map<string, Promise<BareRoom>>();
	readonly #producerPeer = new Map<ms.Producer, number>();
	#consumers = 0;
	#peers = 0;

	private constructor(worker: ms.Worker, options: BareTargetOptions, webRtc: BareWebRtc | undefined) {
		this.#worker = worker;
		this.#pacer = options.pacer;
		this.#sink = options.sink;
		this.#ip = options.ip ?? '127.0.0.1';
		this.#webRtc = webRtc;
		this.description = `bare mediasoup: one worker, a router per room, no Switchyard; ${webRtc ? 'WebRTC receivers on its WebRtcServer' : 'plain receivers'}`;
	}

	static async start(options: BareTargetOptions): Promise<BareTarget> {
		const worker = await mediasoup.createWorker({ logLevel: 'warn' });
		if (!options.receivers) {
			return new BareTarget(worker, options, undefined);
		}
		try {
			const listen = { ip: options.ip ?? '127.0.0.1', port: await findFreePorts(1) };
			const server = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ...listen }, { protocol: 'tcp', ...listen }] });
			return new BareTarget(worker, options, { server, receivers: options.receivers });
		} catch (error) {
			worker.close();
			throw error;
		}
	}

	workerPids(): number[] {
		return [this.#worker.pid];
	}

	consumers(): number {
		return this.#consumers;
	}

	async addPeer(spec: PeerSpec): Promise<void> {
		const peer = this.#peers++;
		const room = await this.#room(spec.room);
		if (spec.subscribe) {
			const receiver: Receiver = { ...await this.#receiveTransport(room.router), peer, consumed: new Set() };
			room.receivers.push(receiver);
			for (const producer of [...room.producers]) {
				await this.#consume(receiver, room.router, producer);
			}
		}
		if (spec.publish.length > 0) {
			const publisher = await this.#pacer.add(spec.publish, this.#ip);
			const transport = await this.#plainTransport(room.router, true);
			await transport.connect({ srtpParameters: publisher.srtpParameters });
			await transport.setMaxIncomingBitrate(MAX_INCOMING_BITRATE);
			for (const kind of spec.publish) {
				const producer = await transport.produce({ kind, rtpParameters: rtpParameters(kind, publisher.ssrcs[kind]!) });
				room.producers.push(producer);
				this.#producerPeer.set(producer, peer);
				for (const receiver of [...room.receivers]) {
					await this.#consume(receiver, room.router, producer);
				}
			}
			publisher.start({ ip: transport.tuple.localIp, port: transport.tuple.localPort });
		}
	}

	#room(id: string): Promise<BareRoom> {
		let room = this.#rooms.get(id);
		if (!room) {
			room = this.#worker.createRouter({ mediaCodecs: MEDIA_CODECS }).then((router) => ({ router, producers: [], receivers: [] }));
			this.#rooms.set(id, room);
		}
		return room;
	}

	async #receiveTransport(router: ms.Router): Promise<Pick<Receiver, 'transport' | 'load'>> {
		if (!this.#webRtc) {
			const transport = await this.#plainTransport(router, false);
			await transport.connect({ ...this.#sink(), srtpParameters: newSrtpParameters() });
			return { transport };
		}
		const load = await this.#webRtc.receivers.open();
		const transport = await router.createWebRtcTransport({
			webRtcServer: this.#webRtc.server, enableUdp: true, enableTcp: true, preferUdp: true,
			initialAvailableOutgoingBitrate: INITIAL_OUTGOING_BITRATE,
		});
		await transport.connect({ dtlsParameters: load.dtlsParameters });
		await load.connect(transport);
		return { transport, load };
	}

	#plainTransport(router: ms.Router, send: boolean): Promise<ms.PlainTransport> {
		return router.createPlainTransport({
			listenIp: { ip: this.#ip },
			rtcpMux: true,
			comedia: send,
			enableSrtp: true,
			srtpCryptoSuite: 'AEAD_AES_256_GCM',
		});
	}

	/** A consumer of `producer` for `receiver`, unless it has one or the producer is its own. */
	async #consume(receiver: Receiver, router: ms.Router, producer: ms.Producer): Promise<void> {
		if (receiver.consumed.has(producer) || this.#producerPeer.get(producer) === receiver.peer) {
			return;
		}
		receiver.consumed.add(producer);
		const consumer = await receiver.transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
		receiver.load?.expect(consumer);
		this.#consumers++;
	}

	async close(): Promise<void> {
		this.#worker.close();
	}
}

export function rtpParameters(kind: Kind, ssrc: number): ms.RtpParameters {
	return kind === 'audio' ? opusParameters(ssrc) : vp8Parameters(ssrc);
}
