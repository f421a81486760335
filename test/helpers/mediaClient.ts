import vm from 'node:vm';
import * as wrtc from '@roamhq/wrtc';
import { Device, type types as msc } from 'mediasoup-client';
import type {
	RequestData, RequestName, ResponseData, ServerEventData, ServerEventName,
} from '../../src/signaling/protocol';

/**
 * What MediaClient needs from signaling: SignalingClient provides it, and so
 * can any stand-in that speaks the protocol.
 */
export interface MediaSignaling {
	request<N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>>;
	onConsumerNew(handler: (data: ServerEventData<'consumer.new'>) => void | Promise<void>): void;
	/** May return a function that removes the listener; MediaClient calls it on close. */
	on<E extends ServerEventName>(event: E, handler: (data: ServerEventData<E>) => void): unknown;
}

export type SyntheticVideo = { width: number; height: number; simulcast?: boolean; frameRate?: number };

export type SyntheticOptions = {
	audio?: boolean;
	video?: boolean | SyntheticVideo;
	/** The generators stop on their own after this long, closed or not; default 60 s. */
	maxDurationMs?: number;
};

export type InboundStats = {
	consumerId: string;
	producerId: string;
	kind: 'audio' | 'video';
	ssrc: number;
	/** 0 until the stream's first packet: the entry appears in getStats() only then. */
	packetsReceived: number;
	bytesReceived: number;
	framesDecoded?: number;
	frameWidth?: number;
	frameHeight?: number;
};

type StatsEntry = { type?: string; ssrc?: number; [key: string]: unknown };

const AUDIO_RATE = 48000;
const AUDIO_FRAME = AUDIO_RATE / 100;

/**
 * A browserless mediasoup client: mediasoup-client 3 with its Chrome111
 * handler, running on @roamhq/wrtc (libwebrtc for Node), fed by synthetic
 * audio and video. It publishes with `produceSynthetic()` and consumes every
 * `consumer.new` the server sends, acknowledging each once it is set up.
 */
export class MediaClient {
	/** Consumers by id, as the server announced them and this client set them up. */
	readonly consumers = new Map<string, msc.Consumer>();
	readonly producers = new Map<string, msc.Producer>();
	private sendTransport?: Promise<msc.Transport>;
	private recvTransport?: Promise<msc.Transport>;
	private readonly generators: SyntheticGenerator[] = [];
	/** What each producer was made with, for rebuild(). */
	private readonly produced = new Map<string, msc.ProducerOptions>();
	private readonly unsubscribe: (() => void)[] = [];
	private closed = false;

	private constructor(private readonly signaling: MediaSignaling, readonly device: msc.Device) {
		signaling.onConsumerNew((data) => this.consume(data));
		const off = signaling.on('consumer.closed', ({ consumerId }) => {
			this.consumers.get(consumerId)?.close();
			this.consumers.delete(consumerId);
		});
		if (typeof off === 'function') {
			this.unsubscribe.push(off as () => void);
		}
	}

	/** A client on `signaling`; its Device is loaded in `join()`. */
	static async create(signaling: MediaSignaling): Promise<MediaClient> {
		installWrtcGlobals();
		return new MediaClient(signaling, new Device({ handlerName: 'Chrome111' }));
	}

	/**
	 * Loads the Device and joins `roomId`. NOTE: room.join must carry the
	 * device's RTP capabilities, and a Device yields those only once loaded
	 * with the router's: the protocol's `media.capabilities` request exists for
	 * exactly this, so no static copy of the router's codecs is needed here.
	 * Unless `consume` is false, the recv transport is created right after:
	 * the server can only create consumers (and send consumer.new) on it.
	 * `e2ee` says the client encrypts (a call's room needs it); this client
	 * sends its media as it is, which the node cannot tell apart.
	 */
	async join(roomId: string, displayName?: string, { consume = true, e2ee }: { consume?: boolean; e2ee?: boolean } = {}): Promise<ResponseData<'room.join'>> {
		this.assertOpen();
		if (!this.device.loaded) {
			const { routerRtpCapabilities } = await this.signaling.request('media.capabilities', {});
			await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
		}
		const joined = await this.signaling.request('room.join', {
			roomId,
			rtpCapabilities: this.device.rtpCapabilities as RequestData<'room.join'>['rtpCapabilities'],
			...(displayName !== undefined ? { displayName } : {}),
			...(e2ee !== undefined ? { e2ee } : {}),
		});
		if (consume) {
			await this.getRecvTransport();
		}
		return joined;
	}

	/**
	 * Publishes generated media: a 440 Hz tone as `mic`, and a moving i420
	 * gradient as `camera` (default 640x360 at 15 fps; with `simulcast`, three
	 * encodings scaled by 4, 2 and 1). Returns the producers by kind.
	 */
	async produceSynthetic(options: SyntheticOptions): Promise<{ audio?: msc.Producer; video?: msc.Producer }> {
		this.assertOpen();
		const maxDurationMs = options.maxDurationMs ?? 60_000;
		const transport = await this.getSendTransport();
		const result: { audio?: msc.Producer; video?: msc.Producer } = {};
		if (options.audio) {
			const generator = new AudioGenerator(maxDurationMs);
			this.generators.push(generator);
			result.audio = await this.produce(transport, {
				track: generator.track,
				codecOptions: { opusDtx: false, opusFec: true },
				appData: { source: 'mic' },
			});
		}
		if (options.video) {
			const video: SyntheticVideo = options.video === true ? { width: 640, height: 360 } : options.video;
			const generator = new VideoGenerator(video, maxDurationMs);
			this.generators.push(generator);
			result.video = await this.produce(transport, {
				track: generator.track,
				...(video.simulcast ? {
					encodings: [
						{ scaleResolutionDownBy: 4, maxBitrate: 150_000 },
						{ scaleResolutionDownBy: 2, maxBitrate: 500_000 },
						{ scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
					],
				} : {}),
				appData: { source: 'camera' },
			});
		}
		return result;
	}

	/**
	 * Receive-side stats of every consumer, from one getStats() of the recv
	 * PeerConnection; a consumer whose first packet has not arrived shows zeros.
	 * NOTE: entries are matched by the consumer's SSRC: the report also holds
	 * mediasoup's bandwidth-probation stream (SSRC 1234) as an extra inbound
	 * video entry that never decodes a frame.
	 */
	async inboundStats(): Promise<InboundStats[]> {
		if (!this.recvTransport || this.consumers.size === 0) {
			return [];
		}
		const report = await (await this.recvTransport).getStats() as Map<string, StatsEntry>;
		const inbound = [...report.values()].filter((s) => s.type === 'inbound-rtp');
		return [...this.consumers.values()].map((consumer) => {
			const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0;
			const entry = inbound.find((s) => s.ssrc === ssrc) ?? {};
			const stats: InboundStats = {
				consumerId: consumer.id,
				producerId: consumer.producerId,
				kind: consumer.kind as 'audio' | 'video',
				ssrc,
				packetsReceived: Number(entry.packetsReceived ?? 0),
				bytesReceived: Number(entry.bytesReceived ?? 0),
			};
			if (consumer.kind === 'video') {
				stats.framesDecoded = Number(entry.framesDecoded ?? 0);
				if (typeof entry.frameWidth === 'number' && typeof entry.frameHeight === 'number') {
					stats.frameWidth = entry.frameWidth;
					stats.frameHeight = entry.frameHeight;
				}
			}
			return stats;
		});
	}

	/**
	 * What a client does on `session.reconnect`: the server lost this peer's
	 * transports (their worker died), so close the local ones, make new ones
	 * (the server places them on a healthy worker) and produce the same tracks
	 * again. Consumers come back as new consumer.new requests.
	 */
	async rebuild(): Promise<void> {
		this.assertOpen();
		const toProduce = [...this.producers.keys()].map((id) => this.produced.get(id)!);
		const transports = await Promise.allSettled([this.sendTransport, this.recvTransport]);
		this.sendTransport = undefined;
		this.recvTransport = undefined;
		for (const settled of transports) {
			if (settled.status === 'fulfilled' && settled.value) {
				settled.value.close();
			}
		}
		this.producers.clear();
		this.produced.clear();
		this.consumers.clear();
		await this.getRecvTransport();
		if (toProduce.length > 0) {
			const transport = await this.getSendTransport();
			for (const options of toProduce) {
				await this.produce(transport, options);
			}
		}
	}

	/**
	 * Stops the generators, closes producers, consumers and both transports
	 * (their PeerConnections). Idempotent. The signaling connection is the
	 * caller's: close it after this.
	 */
	async close(): Promise<void> {
		if (this.closed) {
			return;
		}
		this.closed = true;
		for (const off of this.unsubscribe.splice(0)) {
			off();
		}
		for (const generator of this.generators.splice(0)) {
			generator.stop();
		}
		const transports = await Promise.allSettled([this.sendTransport, this.recvTransport]);
		for (const settled of transports) {
			if (settled.status === 'fulfilled' && settled.value) {
				// Closes its producers and consumers, which stop their tracks.
				settled.value.close();
			}
		}
		this.producers.clear();
		this.consumers.clear();
	}

	private async consume(data: ServerEventData<'consumer.new'>): Promise<void> {
		this.assertOpen();
		const transport = await this.getRecvTransport();
		const consumer = await transport.consume({
			id: data.consumerId,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters as msc.RtpParameters,
			appData: { peerId: data.peerId, source: data.source },
		});
		this.consumers.set(consumer.id, consumer);
		consumer.observer.once('close', () => this.consumers.delete(consumer.id));
	}

	private async produce(transport: msc.Transport, options: msc.ProducerOptions): Promise<msc.Producer> {
		// NOTE: stopTracks false: a rebuild() closes the transport and produces the same track again.
		const producer = await transport.produce({ ...options, stopTracks: false });
		this.producers.set(producer.id, producer);
		this.produced.set(producer.id, options);
		producer.observer.once('close', () => this.producers.delete(producer.id));
		return producer;
	}

	// NOTE: memoised promises, not transports: a consumer.new may arrive while
	// transport.create is still in flight (the server can consume on the new
	// transport before the client has read the ack), and must wait for the
	// same transport rather than create a second one.
	private getSendTransport(): Promise<msc.Transport> {
		this.sendTransport ??= this.createTransport('send');
		return this.sendTransport;
	}

	private getRecvTransport(): Promise<msc.Transport> {
		this.recvTransport ??= this.createTransport('recv');
		return this.recvTransport;
	}

	private async createTransport(direction: 'send' | 'recv'): Promise<msc.Transport> {
		const info = await this.signaling.request('transport.create', { direction });
		const options: msc.TransportOptions = {
			id: info.id,
			iceParameters: info.iceParameters,
			iceCandidates: info.iceCandidates as msc.IceCandidate[],
			dtlsParameters: info.dtlsParameters as msc.DtlsParameters,
			iceServers: info.iceServers,
			iceTransportPolicy: info.iceTransportPolicy,
		};
		const transport = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
		transport.on('connect', ({ dtlsParameters }, callback, errback) => {
			this.signaling.request('transport.connect', {
				transportId: transport.id,
				dtlsParameters: dtlsParameters as RequestData<'transport.connect'>['dtlsParameters'],
			}).then(() => callback(), errback);
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			this.signaling.request('producer.create', {
				transportId: transport.id,
				kind,
				rtpParameters: rtpParameters as RequestData<'producer.create'>['rtpParameters'],
				source: appData.source as RequestData<'producer.create'>['source'],
			}).then(({ id }) => callback({ id }), errback);
		});
		return transport;
	}

	private assertOpen(): void {
		if (this.closed) {
			throw Object.assign(new Error('media client closed'), { code: 'invalid_state' });
		}
	}
}

let globalsInstalled = false;
const EXIT_GUARD = Symbol.for('switchyard.test.wrtcExitGuard');

/**
 * Puts wrtc's WebRTC classes where mediasoup-client looks for them. NOTE:
 * under jest this is the test file's global, so each test file installs its own.
 */
function installWrtcGlobals(): void {
	if (globalsInstalled) {
		return;
	}
	installExitGuard();
	const names = [
		'MediaStream', 'MediaStreamTrack', 'RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate',
		'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver', 'RTCDataChannel', 'RTCDtlsTransport',
		'RTCIceTransport', 'RTCSctpTransport',
	] as const;
	const target = globalThis as Record<string, unknown>;
	for (const name of names) {
		target[name] ??= (wrtc as unknown as Record<string, unknown>)[name];
	}
	globalsInstalled = true;
}

/**
 * NOTE: @roamhq/wrtc 0.10.0 segfaults (exit status 139) when a process that
 * created an RTCAudioSource or RTCVideoSource ends naturally: Node's
 * environment teardown runs the addon's finalizers after libwebrtc is gone,
 * even when every track was stopped and every PeerConnection closed. jest
 * running one file in band would then fail a green run. So once the event loop
 * is empty ('beforeExit'), this exits at once through process.exit(), which
 * skips that teardown; 'exit' listeners still run first, so jest's exit code
 * stands. It is attached to the real process (jest hands test code a copy
 * whose events never fire), found by running `process` in the main context.
 */
function installExitGuard(): void {
	const realProcess = vm.runInThisContext('process') as NodeJS.Process & { [EXIT_GUARD]?: true };
	if (realProcess[EXIT_GUARD]) {
		return;
	}
	realProcess[EXIT_GUARD] = true;
	realProcess.once('beforeExit', () => realProcess.exit());
}

/** A timer-driven source feeding a wrtc track; stops itself after maxDurationMs. */
abstract class SyntheticGenerator {
	readonly track: { stop(): void };
	private timer: NodeJS.Timeout | undefined;
	private readonly deadline: number;

	protected constructor(track: { stop(): void }, intervalMs: number, maxDurationMs: number) {
		this.track = track;
		this.deadline = Date.now() + maxDurationMs;
		this.timer = setInterval(() => {
			if (Date.now() > this.deadline) {
				this.stop();
				return;
			}
			this.tick();
		}, intervalMs);
	}

	protected abstract tick(): void;

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
		this.track.stop();
	}
}

/** 48 kHz mono s16 in 10 ms frames: a 440 Hz tone (Opus DTX would starve on silence). */
class AudioGenerator extends SyntheticGenerator {
	private readonly source: InstanceType<typeof wrtc.nonstandard.RTCAudioSource>;
	private readonly startedAt = Date.now();
	private sentFrames = 0;

	constructor(maxDurationMs: number) {
		const source = new wrtc.nonstandard.RTCAudioSource();
		super(source.createTrack(), 10, maxDurationMs);
		this.source = source;
	}

	protected tick(): void {
		// NOTE: Node timers drift; send the frames that are due so the encoder
		// sees 100 a second, but after a stall skip ahead rather than burst.
		let due = Math.floor((Date.now() - this.startedAt) / 10) - this.sentFrames;
		if (due > 10) {
			this.sentFrames += due - 10;
			due = 10;
		}
		for (let i = 0; i < due; i++) {
			const samples = new Int16Array(AUDIO_FRAME);
			const first = this.sentFrames * AUDIO_FRAME;
			for (let n = 0; n < AUDIO_FRAME; n++) {
				samples[n] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (first + n)) / AUDIO_RATE));
			}
			this.source.onData({ samples, sampleRate: AUDIO_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: AUDIO_FRAME });
			this.sentFrames++;
		}
	}
}

/** i420 frames of a diagonal luma gradient that moves every frame. */
class VideoGenerator extends SyntheticGenerator {
	private readonly source: InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;
	private readonly frame: Uint8Array;
	private count = 0;

	constructor(private readonly video: SyntheticVideo, maxDurationMs: number) {
		if (video.width % 2 !== 0 || video.height % 2 !== 0 || video.width <= 0 || video.height <= 0) {
			throw new Error(`synthetic video needs positive even dimensions, got ${video.width}x${video.height}`);
		}
		const source = new wrtc.nonstandard.RTCVideoSource();
		super(source.createTrack(), Math.round(1000 / (video.frameRate ?? 15)), maxDurationMs);
		this.source = source;
		const lumaSize = video.width * video.height;
		this.frame = new Uint8Array(lumaSize * 1.5);
		this.frame.fill(128, lumaSize);
	}

	protected tick(): void {
		const { width, height } = this.video;
		const shift = (this.count++ * 4) & 0xff;
		for (let y = 0; y < height; y++) {
			const row = y * width;
			for (let x = 0; x < width; x++) {
				this.frame[row + x] = (x + y + shift) & 0xff;
			}
		}
		this.source.onFrame({ width, height, data: this.frame });
	}
}
