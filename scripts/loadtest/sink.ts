/**
 * The counting sink: one UDP socket consumers send to. It reads only
 * the RTP header, which SRTP leaves in clear: packets and bytes, and loss per
 * SSRC from sequence numbers. RTCP (rtcp-mux) and mediasoup's bandwidth
 * probation packets (SSRC 1234) are read and ignored. It sends nothing back,
 * so NACK/retransmission work is not in the figures (real clients add some).
 *
 * Reading costs this process several µs a packet, too much at the 100 k
 * packets/s that saturate a worker. With `sampleEvery` N > 1 only every Nth
 * subscriber sends to the counting socket; the others send to a discard
 * socket held by a stopped child process: the kernel queues until its buffer
 * is full and then drops, and its drop counter (/proc/net/udp) counts them.
 * Loss is measured on the sampled subscribers (an overloaded worker drops
 * incoming packets, so every consumer of one sees the same gap); packets/s
 * counts both sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';

const PROBATION_SSRC = 1234;

type SsrcState = { firstSeq: number; highest: number; received: number };

/** `socketDrops`: datagrams the kernel dropped at the sink's own socket (its receive buffer was full). */
export type SinkTotals = { packets: number; bytes: number; expected: number; received: number; ssrcs: number; socketDrops: number };

export class Sink {
	readonly #socket = dgram.createSocket('udp4');
	readonly #ssrcs = new Map<number, SsrcState>();
	readonly #sampleEvery: number;
	/** Sees every counted RTP packet: its SSRC, RTP timestamp and arrival (performance.now()), for latency. */
	onRtp: ((ssrc: number, timestamp: number, arrivedAt: number) => void) | undefined;
	#discard: { child: ChildProcess; port: number } | undefined;
	#handedOut = 0;
	#packets = 0;
	#bytes = 0;
	#rtcp = 0;
	readonly #countedPorts: number[] = [];
	readonly #discardPorts: number[] = [];

	private constructor(sampleEvery: number) {
		this.#sampleEvery = sampleEvery;
		this.#socket.on('message', (data) => this.#onPacket(data));
	}

	static async start(ip: string, { sampleEvery = 1 }: { sampleEvery?: number } = {}): Promise<Sink> {
		const sink = new Sink(sampleEvery);
		await new Promise<void>((resolve) => sink.#socket.bind(0, ip, resolve));
		try {
			// NOTE: capped by net.core.rmem_max; drops here are reported apart (socketDrops).
			sink.#socket.setRecvBufferSize(16 * 1024 * 1024);
		} catch {
			// Keep the default.
		}
		if (sampleEvery > 1) {
			sink.#discard = await startDiscard(ip);
		}
		return sink;
	}

	/** The counting socket's address. */
	get address(): { ip: string; port: number } {
		const { address, port } = this.#socket.address();
		return { ip: address, port };
	}

	/** Where the next subscriber sends: the counting socket for every `sampleEvery`th, else the discard socket. */
	nextAddress(): { ip: string; port: number } {
		const counted = this.#handedOut++ % this.#sampleEvery === 0;
		return counted || !this.#discard ? this.address : { ip: this.address.ip, port: this.#discard.port };
	}

	get receiveBufferBytes(): number {
		return this.#socket.getRecvBufferSize();
	}

	/** Totals so far; loss is `expected - received` over SSRCs seen. */
	totals(): SinkTotals {
		let expected = 0;
		let received = 0;
		for (const s of this.#ssrcs.values()) {
			expected += s.highest - s.firstSeq + 1;
			received += s.received;
		}
		const drops = udpDrops();
		const sum = (ports: number[]) => ports.reduce((total, port) => total + (drops.get(port) ?? 0), 0);
		const discarded = sum([...(this.#discard ? [this.#discard.port] : []), ...this.#discardPorts]);
		// Bytes of discarded packets: at the counted packets' mean size.
		const bytes = this.#bytes + (this.#packets > 0 ? (discarded * this.#bytes) / this.#packets : 0);
		return { packets: this.#packets + discarded, bytes, expected, received, ssrcs: this.#ssrcs.size, socketDrops: sum([this.address.port, ...this.#countedPorts]) };
	}

	#onPacket(data: Buffer): void {
		if (data.length < 12) {
			return;
		}
		const payloadType = data[1]! & 0x7f;
		// RTCP packet types 192-223 appear as 64-95 once the marker bit is masked.
		if (payloadType >= 64 && payloadType <= 95) {
			this.#rtcp++;
			return;
		}
		this.record(data.readUInt32BE(8), data.readUInt16BE(2), data.readUInt32BE(4), data.length);
	}

	/**
	 * Counts one RTP packet that a receiver of its own got (a WebRTC receiver,
	 * after decryption; a retransmission with its original SSRC and sequence number).
	 */
	record(ssrc: number, seq: number, timestamp: number, bytes: number): void {
		if (ssrc === PROBATION_SSRC) {
			return;
		}
		this.#packets++;
		this.#bytes += bytes;
		this.onRtp?.(ssrc, timestamp, performance.now());
		const state = this.#ssrcs.get(ssrc);
		if (!state) {
			this.#ssrcs.set(ssrc, { firstSeq: seq, highest: seq, received: 1 });
			return;
		}
		state.received++;
		// Extend the 16-bit sequence number relative to the highest seen.
		const delta = ((seq - (state.highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
		if (delta > 0) {
			state.highest += delta;
		}
	}

	/**
	 * Another local UDP port whose kernel drops count: a counted receiver's
	 * (drops are the generator's, like the counting socket's) or a silent
	 * one's (its drops are packets delivered and discarded, like the discard socket's).
	 */
	watchPort(port: number, counted: boolean): void {
		(counted ? this.#countedPorts : this.#discardPorts).push(port);
	}

	close(): void {
		this.#socket.close();
		this.#discard?.child.kill('SIGKILL');
	}
}

/** A UDP socket nobody reads: a child binds it, reports its port and is stopped (SIGSTOP). */
async function startDiscard(ip: string): Promise<{ child: ChildProcess; port: number }> {
	const script = `const s = require('node:dgram').createSocket('udp4');
s.bind(0, ${JSON.stringify(ip)}, () => { s.setRecvBufferSize(65536); console.log(s.address().port); });`;
	const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
	const port = await new Promise<number>((resolve, reject) => {
		child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
		child.once('exit', (code) => reject(new Error(`the discard socket's process exited with ${code}`)));
	});
	child.kill('SIGSTOP');
	return { child, port };
}

/**
 * The drops counter of every local UDP port in /proc/net/udp (empty where
 * unreadable). For a counting socket: loss the sink itself caused, not the node.
 */
function udpDrops(): Map<number, number> {
	const drops = new Map<number, number>();
	try {
		for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
			if (Number.isInteger(port)) {
				drops.set(port, (drops.get(port) ?? 0) + (Number(fields.at(-1)) || 0));
			}
		}
	} catch {
		// Not Linux.
	}
	return drops;
}
