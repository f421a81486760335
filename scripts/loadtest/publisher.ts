/**
 * Publishers: each replays the capture cycle at real rate over its own UDP
 * socket (a comedia PlainTransport locks onto its first source address),
 * encrypted with SRTP AEAD_AES_256_GCM. One timer paces them all.
 */
import dgram from 'node:dgram';
import { buildCycle, CYCLE_MS, type CapturedPacket, type Kind } from './capture';
import { newSrtpParameters, SrtpSender, type SrtpParameters } from './srtp';

/** RTP payload types and clock rates, as test/helpers/rtp.ts declares the producers. */
export const PAYLOAD_TYPES: Record<Kind, number> = { audio: 111, video: 96 };
const CLOCK_KHZ: Record<Kind, number> = { audio: 48, video: 90 };
const TICK_MS = 5;

/** Told of each RTP packet as it is sent: its kind, SSRC and RTP timestamp. */
export type SendObserver = (kind: Kind, ssrc: number, timestamp: number) => void;

type Stream = { ssrc: number; seq: number; timestampBase: number };

/** One publisher: an SRTP key, a socket, and an SSRC per kind it sends. */
export class Publisher {
	readonly srtpParameters: SrtpParameters = newSrtpParameters();
	readonly ssrcs: Partial<Record<Kind, number>> = {};
	packetsSent = 0;
	bytesSent = 0;
	readonly #socket: dgram.Socket;
	readonly #srtp: SrtpSender;
	readonly #streams = new Map<Kind, Stream>();
	readonly #cycle: CapturedPacket[];
	#target: { ip: string; port: number } | undefined;
	/** Where the next packet is in the cycle, and how many cycles were sent. */
	#cursor = 0;
	#cycles = 0;
	/** Offset of this publisher's cycle, so that publishers do not send key frames together. */
	readonly #phaseMs: number;

	readonly #onSend: SendObserver;

	constructor(kinds: readonly Kind[], cycles: Map<string, CapturedPacket[]>, firstSsrc: number, phaseMs: number, onSend: SendObserver = () => undefined) {
		this.#onSend = onSend;
		const key = [...kinds].sort().join('+');
		let cycle = cycles.get(key);
		if (!cycle) {
			cycle = buildCycle(kinds);
			cycles.set(key, cycle);
		}
		this.#cycle = cycle;
		this.#phaseMs = phaseMs;
		kinds.forEach((kind, i) => {
			this.ssrcs[kind] = firstSsrc + i;
			this.#streams.set(kind, { ssrc: firstSsrc + i, seq: (firstSsrc * 7919) & 0xffff, timestampBase: (firstSsrc * 104729) >>> 0 });
		});
		this.#srtp = SrtpSender.fromParameters(this.srtpParameters);
		this.#socket = dgram.createSocket('udp4');
		// NOTE: the node sends RTCP back: read and discard it, or the socket's buffer fills.
		this.#socket.on('message', () => undefined);
		this.#socket.on('error', () => undefined);
	}

	async bind(ip: string): Promise<void> {
		await new Promise<void>((resolve) => this.#socket.bind(0, ip, resolve));
	}

	/** Starts sending to the node's transport (on the pacer's next tick). */
	start(target: { ip: string; port: number }): void {
		this.#target = target;
	}

	/** Sends every packet due by `elapsedMs` since the pacer started. */
	sendDue(elapsedMs: number): void {
		if (!this.#target) {
			return;
		}
		const local = elapsedMs - this.#phaseMs;
		while (local >= this.#cycles * CYCLE_MS + this.#cycle[this.#cursor]!.atMs) {
			this.#send(this.#cycle[this.#cursor]!);
			if (++this.#cursor === this.#cycle.length) {
				this.#cursor = 0;
				this.#cycles++;
			}
		}
	}

	#send(packet: CapturedPacket): void {
		const stream = this.#streams.get(packet.kind)!;
		const rtp = Buffer.alloc(12 + packet.payload.length);
		rtp[0] = 0x80;
		rtp[1] = (packet.marker ? 0x80 : 0) | PAYLOAD_TYPES[packet.kind];
		rtp.writeUInt16BE(stream.seq, 2);
		stream.seq = (stream.seq + 1) & 0xffff;
		const ms = this.#cycles * CYCLE_MS + (packet.kind === 'video' ? (packet.frame * 1000) / 30 : packet.atMs);
		rtp.writeUInt32BE((stream.timestampBase + Math.round(ms * CLOCK_KHZ[packet.kind])) >>> 0, 4);
		rtp.writeUInt32BE(stream.ssrc, 8);
		packet.payload.copy(rtp, 12);
		if (packet.kind === 'video') {
			// The picture id (15 bits, M set) counts frames across cycles.
			rtp.writeUInt16BE(0x8000 | ((this.#cycles * 60 + packet.frame) & 0x7fff), 14);
		}
		this.#onSend(packet.kind, stream.ssrc, rtp.readUInt32BE(4));
		const srtp = this.#srtp.protect(rtp, 12);
		this.#socket.send(srtp, this.#target!.port, this.#target!.ip);
		this.packetsSent++;
		this.bytesSent += srtp.length;
	}

	close(): void {
		this.#target = undefined;
		this.#socket.close();
	}
}

/** Paces every publisher from one timer; each catches up on what fell due since the last tick. */
export class Pacer {
	readonly publishers = new Set<Publisher>();
	readonly #cycles = new Map<string, CapturedPacket[]>();
	readonly #startedAt = performance.now();
	readonly #timer: NodeJS.Timeout;
	#nextSsrc = 1_000_000;
	/** Sees every packet any publisher sends (kind, SSRC, RTP timestamp), for latency. */
	onSend: SendObserver | undefined;

	constructor() {
		this.#timer = setInterval(() => {
			const elapsed = performance.now() - this.#startedAt;
			for (const publisher of this.publishers) {
				publisher.sendDue(elapsed);
			}
		}, TICK_MS);
	}

	async add(kinds: readonly Kind[], bindIp: string): Promise<Publisher> {
		const elapsed = performance.now() - this.#startedAt;
		// Start at the next cycle boundary of a random phase: from a key frame.
		const phase = elapsed + Math.random() * CYCLE_MS;
		const publisher = new Publisher(kinds, this.#cycles, this.#nextSsrc, phase, (kind, ssrc, timestamp) => this.onSend?.(kind, ssrc, timestamp));
		this.#nextSsrc += 2;
		await publisher.bind(bindIp);
		this.publishers.add(publisher);
		return publisher;
	}

	close(): void {
		clearInterval(this.#timer);
		for (const publisher of this.publishers) {
			publisher.close();
		}
		this.publishers.clear();
	}
}
