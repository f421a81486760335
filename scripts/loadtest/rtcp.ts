/**
 * The RTCP a browser's receiver sends, and the little it reads: receiver
 * reports (RFC 3550 6.4.2) whose LSR/DLSR let the sender compute the round
 * trip, generic NACKs (RFC 4585 6.2.1), and the sender reports they answer.
 * Per-SSRC reception statistics follow RFC 3550 appendix A.3 and A.8.
 */

const PT_SR = 200;
const PT_RR = 201;
const PT_RTPFB = 205;
const FMT_NACK = 1;
const REPORT_BLOCK_BYTES = 24;
/** At most this many report blocks in one RR (the 5-bit count). */
export const MAX_REPORT_BLOCKS = 31;

/** Whether an RTP-looking datagram is RTCP (RFC 5761 4: packet types 192-223). */
export function isRtcp(data: Buffer): boolean {
	return data.length >= 8 && data[1]! >= 192 && data[1]! <= 223;
}

/** A sender report's identity: SSRC and the middle 32 bits of its NTP timestamp (what an RR's LSR echoes). */
export type SenderReport = { ssrc: number; ntpMiddle: number };

/** The sender reports in a compound RTCP packet. */
export function senderReports(rtcp: Buffer): SenderReport[] {
	const reports: SenderReport[] = [];
	for (let offset = 0; offset + 4 <= rtcp.length;) {
		const length = (rtcp.readUInt16BE(offset + 2) + 1) * 4;
		if (offset + length > rtcp.length) {
			break;
		}
		if (rtcp[offset + 1] === PT_SR && length >= 28) {
			reports.push({ ssrc: rtcp.readUInt32BE(offset + 4), ntpMiddle: rtcp.readUInt32BE(offset + 10) });
		}
		offset += length;
	}
	return reports;
}

function rtcpHeader(countOrFormat: number, type: number, words: number): Buffer {
	const h = Buffer.alloc(4);
	h[0] = 0x80 | countOrFormat;
	h[1] = type;
	h.writeUInt16BE(words - 1, 2);
	return h;
}

export type ReportBlock = {
	ssrc: number; fractionLost: number; cumulativeLost: number; highestSeq: number; jitter: number;
	lastSr: number; delaySinceLastSr: number;
};

/** A receiver report from `senderSsrc` with up to 31 report blocks. */
export function receiverReport(senderSsrc: number, blocks: readonly ReportBlock[]): Buffer {
	const used = blocks.slice(0, MAX_REPORT_BLOCKS);
	const body = Buffer.alloc(4 + used.length * REPORT_BLOCK_BYTES);
	body.writeUInt32BE(senderSsrc >>> 0, 0);
	used.forEach((b, i) => {
		const at = 4 + i * REPORT_BLOCK_BYTES;
		body.writeUInt32BE(b.ssrc >>> 0, at);
		body[at + 4] = b.fractionLost;
		// Cumulative lost: 24-bit signed.
		body.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)), at + 5, 3);
		body.writeUInt32BE(b.highestSeq >>> 0, at + 8);
		body.writeUInt32BE(b.jitter >>> 0, at + 12);
		body.writeUInt32BE(b.lastSr >>> 0, at + 16);
		body.writeUInt32BE(b.delaySinceLastSr >>> 0, at + 20);
	});
	return Buffer.concat([rtcpHeader(used.length, PT_RR, 1 + body.length / 4), body]);
}

/** A generic NACK for `seqs` of `mediaSsrc` (each FCI: a PID and a bitmask of the 16 after it). */
export function genericNack(senderSsrc: number, mediaSsrc: number, seqs: readonly number[]): Buffer {
	const sorted = [...new Set(seqs.map((s) => s & 0xffff))].sort((a, b) => ((a - b + 0x8000) & 0xffff) - 0x8000);
	const fci: Buffer[] = [];
	for (let i = 0; i < sorted.length;) {
		const pid = sorted[i++]!;
		let blp = 0;
		while (i < sorted.length) {
			const delta = (sorted[i]! - pid) & 0xffff;
			if (delta < 1 || delta > 16) {
				break;
			}
			blp |= 1 << (delta - 1);
			i++;
		}
		const item = Buffer.alloc(4);
		item.writeUInt16BE(pid, 0);
		item.writeUInt16BE(blp, 2);
		fci.push(item);
	}
	const ids = Buffer.alloc(8);
	ids.writeUInt32BE(senderSsrc >>> 0, 0);
	ids.writeUInt32BE(mediaSsrc >>> 0, 4);
	return Buffer.concat([rtcpHeader(FMT_NACK, PT_RTPFB, 3 + fci.length), ids, ...fci]);
}

/** Reception statistics of one media SSRC (RFC 3550 A.3 and A.8). */
export class ReceptionStats {
	readonly ssrc: number;
	readonly #clockRate: number;
	#baseSeq = -1;
	/** Extended highest sequence number received (cycles << 16 | seq). */
	#highest = 0;
	#received = 0;
	#expectedPrior = 0;
	#receivedPrior = 0;
	#jitter = 0;
	#lastTransit: number | undefined;
	#lastSr: { ntpMiddle: number; at: number } | undefined;

	constructor(ssrc: number, clockRate: number) {
		this.ssrc = ssrc;
		this.#clockRate = clockRate;
	}

	/**
	 * Records a packet of `seq` (its original one, for a retransmission);
	 * `timestamp` and `arrivedAtMs` feed the jitter when given (not for a
	 * retransmission). Returns the extended sequence numbers it shows missing.
	 */
	received(seq: number, timestamp: number | undefined, arrivedAtMs: number): number[] {
		this.#received++;
		if (this.#baseSeq < 0) {
			this.#baseSeq = seq;
			this.#highest = seq;
			return [];
		}
		if (timestamp !== undefined) {
			const transit = (arrivedAtMs * this.#clockRate) / 1000 - timestamp;
			if (this.#lastTransit !== undefined) {
				// The RTP timestamp wraps at 2^32: take the difference modulo that.
				let d = Math.abs(transit - this.#lastTransit) % 2 ** 32;
				d = Math.min(d, 2 ** 32 - d);
				this.#jitter += (d - this.#jitter) / 16;
			}
			this.#lastTransit = transit;
		}
		const delta = ((seq - (this.#highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
		if (delta <= 0) {
			return [];
		}
		const missing: number[] = [];
		for (let s = this.#highest + 1; s < this.#highest + delta; s++) {
			missing.push(s);
		}
		this.#highest += delta;
		return missing;
	}

	/** Packets of this SSRC counted so far (retransmissions included). */
	get packets(): number {
		return this.#received;
	}

	senderReport(ntpMiddle: number, atMs: number): void {
		this.#lastSr = { ntpMiddle, at: atMs };
	}

	/** This SSRC's report block now; starts the next interval. Undefined before its first packet. */
	reportBlock(nowMs: number): ReportBlock | undefined {
		if (this.#baseSeq < 0) {
			return undefined;
		}
		const expected = this.#highest - this.#baseSeq + 1;
		const expectedInterval = expected - this.#expectedPrior;
		const receivedInterval = this.#received - this.#receivedPrior;
		this.#expectedPrior = expected;
		this.#receivedPrior = this.#received;
		const lostInterval = expectedInterval - receivedInterval;
		return {
			ssrc: this.ssrc,
			fractionLost: expectedInterval > 0 && lostInterval > 0 ? Math.min(255, Math.floor((lostInterval * 256) / expectedInterval)) : 0,
			cumulativeLost: expected - this.#received,
			highestSeq: this.#highest,
			jitter: Math.round(this.#jitter),
			lastSr: this.#lastSr?.ntpMiddle ?? 0,
			// In units of 1/65536 s.
			delaySinceLastSr: this.#lastSr ? Math.round(((nowMs - this.#lastSr.at) / 1000) * 65536) : 0,
		};
	}
}
