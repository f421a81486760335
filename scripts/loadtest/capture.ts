/**
 * The media a load generator publishes: one 2-second cycle of RTP packets in
 * the shape of a 720p30 VP8 stream at about 1 Mbit/s with a key frame every
 * 2 s, and 20 ms Opus frames at about 48 kbit/s, replayed at real rate.
 *
 * NOTE: synthetic, not an ffmpeg capture (no system package needed, so the
 * smoke test runs anywhere). The SFU never decodes: what it costs depends on
 * packets per second, their sizes and the VP8 payload descriptor it parses
 * (picture id, start of frame, key frame), which are all real here. About 180
 * packets/s and 1.05 Mbit/s per audio+video pair, as the engine baseline's
 * capture (170 packets/s, 1.1 Mbit/s).
 */

export const CYCLE_MS = 2000;
export const VIDEO_FPS = 30;
export const AUDIO_FRAME_MS = 20;
/** RTP payload bytes per packet at most (what browsers use, about 1200 with headers). */
const MAX_PAYLOAD = 1100;
const KEY_FRAME_BYTES = 30_000;
const DELTA_FRAME_BYTES = 3_700;
const OPUS_FRAME_BYTES = 120;

export type Kind = 'audio' | 'video';

/** One RTP packet of the cycle, before SSRC, sequence number and timestamp are set. */
export type CapturedPacket = {
	atMs: number;
	kind: Kind;
	/** Frame number within the cycle (video) or audio frame number. */
	frame: number;
	marker: boolean;
	/** The RTP payload (VP8 descriptor included); bytes 2-3 of a VP8 one get the picture id. */
	payload: Buffer;
};

/** Deterministic filler so every run sends the same bytes. */
function filler(length: number, seed: number): Buffer {
	const out = Buffer.alloc(length);
	let x = seed * 2654435761 >>> 0 || 1;
	for (let i = 0; i < length; i++) {
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		out[i] = x & 0xff;
	}
	return out;
}

/**
 * A VP8 frame's packets: payload descriptor X=1 S (first packet) PID=0, I=1
 * with a 15-bit picture id; the first packet starts the VP8 payload header
 * (P=0 on a key frame, with its start code and 1280x720).
 */
function vp8Frame(frame: number, bytes: number, key: boolean): Buffer[] {
	const body = filler(bytes, frame + 1);
	// Frame tag: bit 0 P (0 = key frame), show_frame bit 4.
	body[0] = (key ? 0x00 : 0x01) | 0x10;
	if (key) {
		body.set([0x9d, 0x01, 0x2a], 3);
		body.writeUInt16LE(1280, 6);
		body.writeUInt16LE(720, 8);
	}
	const packets: Buffer[] = [];
	for (let offset = 0; offset < bytes; offset += MAX_PAYLOAD) {
		const descriptor = Buffer.from([offset === 0 ? 0x90 : 0x80, 0x80, 0x80, 0x00]);
		packets.push(Buffer.concat([descriptor, body.subarray(offset, offset + MAX_PAYLOAD)]));
	}
	return packets;
}

/** The packets of one cycle, ordered by time. */
export function buildCycle(kinds: readonly Kind[]): CapturedPacket[] {
	const packets: CapturedPacket[] = [];
	if (kinds.includes('video')) {
		const frames = (CYCLE_MS / 1000) * VIDEO_FPS;
		for (let frame = 0; frame < frames; frame++) {
			const key = frame === 0;
			const payloads = vp8Frame(frame, key ? KEY_FRAME_BYTES : DELTA_FRAME_BYTES, key);
			// A frame's packets leave over about 2 ms, as a paced sender spreads them.
			payloads.forEach((payload, i) => packets.push({
				atMs: (frame * 1000) / VIDEO_FPS + (i * 2) / payloads.length,
				kind: 'video', frame, marker: i === payloads.length - 1, payload,
			}));
		}
	}
	if (kinds.includes('audio')) {
		for (let frame = 0; frame < CYCLE_MS / AUDIO_FRAME_MS; frame++) {
			packets.push({ atMs: frame * AUDIO_FRAME_MS, kind: 'audio', frame, marker: false, payload: filler(OPUS_FRAME_BYTES, 10_000 + frame) });
		}
	}
	return packets.sort((a, b) => a.atMs - b.atMs);
}
