/**
 * The counting sink: one UDP socket every consumer sends to. It reads only
 * the RTP header, which SRTP leaves in clear: packets and bytes, and loss per
 * SSRC from sequence numbers. RTCP (rtcp-mux) and mediasoup's bandwidth
 * probation packets (SSRC 1234) are read and ignored. It sends nothing back,
 * so NACK/retransmission work is not in the figures (real clients add some).
 */
import dgram from 'node:dgram';

const PROBATION_SSRC = 1234;

type SsrcState = { firstSeq: number; highest: number; received: number };

export type SinkTotals = { packets: number; bytes: number; expected: number; received: number; ssrcs: number };

export class Sink {
	readonly #socket = dgram.createSocket('udp4');
	readonly #ssrcs = new Map<number, SsrcState>();
	#packets = 0;
	#bytes = 0;
	#rtcp = 0;

	private constructor() {
		this.#socket.on('message', (data) => this.#onPacket(data));
	}

	static async start(ip: string): Promise<Sink> {
		const sink = new Sink();
		await new Promise<void>((resolve) => sink.#socket.bind(0, ip, resolve));
		try {
			// NOTE: capped by net.core.rmem_max; drops here would count as loss.
			sink.#socket.setRecvBufferSize(16 * 1024 * 1024);
		} catch {
			// Keep the default.
		}
		return sink;
	}

	get address(): { ip: string; port: number } {
		const { address, port } = this.#socket.address();
		return { ip: address, port };
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
		return { packets: this.#packets, bytes: this.#bytes, expected, received, ssrcs: this.#ssrcs.size };
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
		const ssrc = data.readUInt32BE(8);
		if (ssrc === PROBATION_SSRC) {
			return;
		}
		this.#packets++;
		this.#bytes += data.length;
		const seq = data.readUInt16BE(2);
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

	close(): void {
		this.#socket.close();
	}
}
