/**
 * Drives a running Switchyard node through its real signaling API: each peer
 * is one socket.io connection that joins a room. A subscriber receives as a
 * browser does, over a WebRTC transport (transport.create, transport.connect,
 * then ICE and DTLS to the worker's WebRtcServer: receivers.ts), or, without
 * `receivers`, over a plain transport to the sink (transport.createPlain,
 * which needs the loadtest grant). Publishers always send over plain
 * transports. Every consumer.new is acknowledged, so consumers are resumed by
 * the node as a browser's are.
 */
import { io, type Socket } from 'socket.io-client';
import type { AuthConfig } from '../../src/config';
import { TokenService } from '../../src/auth';
import { PROTOCOL_VERSION, type Ack, type RequestData, type RequestName, type ResponseData } from '../../src/signaling/protocol';
import { rtpParameters } from './bareTarget';
import type { Pacer } from './publisher';
import type { LoadReceiver, WebRtcReceivers } from './receivers';
import type { PeerSpec } from './scenarios';
import { newSrtpParameters } from './srtp';
import type { ConsumerOffer, RemoteTransport } from './webrtcReceiver';
import type { GaugeReading, LoadTarget } from './target';

const REQUEST_TIMEOUT_MS = 30_000;

export type NodeTargetOptions = {
	url: string;
	/** The node's auth.secret: the generator signs its own tokens with the loadtest grant. */
	secret: string;
	/** Bearer token of /metrics (metrics.token), if the node has one. */
	metricsToken?: string;
	pacer: Pacer;
	/** Where the next plain subscriber's consumers send (the sink's counting or discard socket). */
	sink: () => { ip: string; port: number };
	/** WebRTC receivers for subscribers; plain transports to the sink without. */
	receivers?: WebRtcReceivers;
	/** The address publishers send from (the node's transports learn it: comedia). */
	ip: string;
	/** Told of each consumer the node offers: its kind and the SSRC it sends with. */
	onConsumer?: (kind: 'audio' | 'video', ssrc: number) => void;
};

export class NodeTarget implements LoadTarget {
	readonly description: string;
	readonly #options: NodeTargetOptions;
	readonly #tokens: TokenService;
	readonly #sockets: Socket[] = [];
	readonly #workerPids: number[];
	#rtpCapabilities: unknown;
	#consumers = 0;
	#peers = 0;

	private constructor(options: NodeTargetOptions, tokens: TokenService, workerPids: number[]) {
		this.#options = options;
		this.#tokens = tokens;
		this.#workerPids = workerPids;
		this.description = `Switchyard node at ${options.url} (${workerPids.length} worker${workerPids.length === 1 ? '' : 's'})`;
	}

	static async start(options: NodeTargetOptions): Promise<NodeTarget> {
		const config = { secret: options.secret, publicKey: null, issuer: null, audience: null, tokenTtlSeconds: 3600 } as AuthConfig;
		const tokens = await TokenService.create(config, { dev: false });
		const res = await fetch(`${options.url}/readyz`, { signal: AbortSignal.timeout(5000) });
		const ready = await res.json() as { workers?: { pid?: number; state?: string }[] };
		if (res.status !== 200) {
			throw new Error(`${options.url}/readyz: ${res.status} ${JSON.stringify(ready)}`);
		}
		const pids = (ready.workers ?? []).flatMap((w) => (w.state === 'up' && w.pid ? [w.pid] : []));
		return new NodeTarget(options, tokens, pids);
	}

	workerPids(): number[] {
		return this.#workerPids;
	}

	consumers(): number {
		return this.#consumers;
	}

	async addPeer(spec: PeerSpec): Promise<void> {
		const index = this.#peers++;
		const token = await this.#tokens.issue({ sub: `loadtest-${process.pid}-${index}`, name: `load ${index}`, rooms: ['*'], loadtest: true });
		// The receiver first: the node offers consumers as soon as the receive transport exists.
		const receiver = spec.subscribe ? await this.#options.receivers?.open() : undefined;
		const socket = await this.#connect(token, receiver);
		const call = <N extends RequestName>(name: N, data: RequestData<N>) => request(socket, name, data);
		this.#rtpCapabilities ??= (await call('media.capabilities', {})).routerRtpCapabilities;
		await call('room.join', { roomId: spec.room, rtpCapabilities: this.#rtpCapabilities as RequestData<'room.join'>['rtpCapabilities'] });
		if (receiver) {
			const transport = await call('transport.create', { direction: 'recv' });
			await call('transport.connect', { transportId: transport.id, dtlsParameters: receiver.dtlsParameters });
			await receiver.connect(transport as unknown as RemoteTransport);
		} else if (spec.subscribe) {
			await call('transport.createPlain', { direction: 'recv', srtpParameters: newSrtpParameters(), remote: this.#options.sink() });
		}
		if (spec.publish.length > 0) {
			const publisher = await this.#options.pacer.add(spec.publish, this.#options.ip);
			const send = await call('transport.createPlain', { direction: 'send', srtpParameters: publisher.srtpParameters });
			for (const kind of spec.publish) {
				await call('producer.create', {
					transportId: send.id, kind, source: kind === 'audio' ? 'mic' : 'camera',
					rtpParameters: rtpParameters(kind, publisher.ssrcs[kind]!) as RequestData<'producer.create'>['rtpParameters'],
				});
			}
			publisher.start({ ip: send.ip, port: send.port });
		}
	}

	async #connect(token: string, receiver: LoadReceiver | undefined): Promise<Socket> {
		const socket = io(this.#options.url, {
			transports: ['websocket'],
			auth: { token, protocol: PROTOCOL_VERSION },
			// NOTE: forceNew, or socket.io-client shares one connection (and its auth) per URL.
			forceNew: true,
			reconnection: false,
			autoConnect: false,
			timeout: REQUEST_TIMEOUT_MS,
		});
		socket.on('consumer.new', (data: Partial<ConsumerOffer>, ack?: (reply: Ack<Record<string, never>>) => void) => {
			this.#consumers++;
			if (data?.kind && data.rtpParameters) {
				receiver?.expect(data as ConsumerOffer);
			}
			const ssrc = data?.rtpParameters?.encodings?.[0]?.ssrc;
			if (this.#options.onConsumer && data?.kind && typeof ssrc === 'number') {
				this.#options.onConsumer(data.kind, ssrc);
			}
			ack?.({ ok: true, data: {} });
		});
		socket.on('consumer.closed', () => this.#consumers--);
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', () => resolve());
			socket.once('connect_error', (error: Error & { data?: { code?: string; message?: string } }) =>
				reject(new Error(`connect: ${error.data?.code ?? ''} ${error.data?.message ?? error.message}`)));
			socket.connect();
		});
		this.#sockets.push(socket);
		return socket;
	}

	/** The node's capacity gauge and what it implies per core, from /metrics. */
	async gauge(): Promise<GaugeReading | undefined> {
		const headers: Record<string, string> = this.#options.metricsToken ? { authorization: `Bearer ${this.#options.metricsToken}` } : {};
		const res = await fetch(`${this.#options.url}/metrics`, { headers, signal: AbortSignal.timeout(5000) });
		if (!res.ok) {
			return undefined;
		}
		const text = await res.text();
		const sum = (name: string): number | undefined => {
			const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))].map((m) => Number(m[1]));
			return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
		};
		const headroom = sum('switchyard_capacity_consumers');
		const cpuPerConsumer = sum('switchyard_cpu_per_consumer');
		const consumers = sum('switchyard_consumers') ?? 0;
		const workers = sum('switchyard_workers') ?? 1;
		if (headroom === undefined || cpuPerConsumer === undefined || cpuPerConsumer === 0) {
			return undefined;
		}
		return {
			headroom, consumers, cpuPerConsumer, workers,
			targetCpu: sum('switchyard_capacity_target_cpu') ?? 0.8,
			consumersPerCore: (consumers + headroom) / workers,
		};
	}

	/** Every peer leaves (so the node frees them now, not after the reconnect grace) and disconnects. */
	async close(): Promise<void> {
		const sockets = this.#sockets.splice(0);
		await Promise.allSettled(sockets.map((socket) => socket.timeout(5000).emitWithAck('room.leave', {})));
		for (const socket of sockets) {
			socket.disconnect();
		}
	}
}

async function request<N extends RequestName>(socket: Socket, name: N, data: RequestData<N>): Promise<ResponseData<N>> {
	const reply = await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, data) as Ack<ResponseData<N>>;
	if (!reply || reply.ok !== true) {
		const error = reply && reply.ok === false ? reply.error : { code: 'malformed_ack', message: JSON.stringify(reply) };
		throw new Error(`${name}: ${error.code}: ${error.message}`);
	}
	return reply.data;
}
