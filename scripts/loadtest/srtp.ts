/**
 * SRTP and SRTCP with AES-GCM (RFC 7714), both directions, with node:crypto:
 * AEAD_AES_256_GCM is what browsers negotiate with mediasoup, so the worker
 * decrypts and encrypts what it would for a real client. A publisher's
 * plain transport takes a master key from `newSrtpParameters`; a WebRTC
 * receiver's keys come from its DTLS handshake (dtls.ts), AEAD_AES_128_GCM
 * (16-byte keys) as well.
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 12;
const TAG_BYTES = 16;
const LABEL_RTP_ENCRYPTION = 0x00;
const LABEL_RTP_SALT = 0x02;
const LABEL_RTCP_ENCRYPTION = 0x03;
const LABEL_RTCP_SALT = 0x05;
/** The E flag of an SRTCP index word: the packet is encrypted. */
const SRTCP_E = 0x80000000;

export type SrtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM'; keyBase64: string };

/** A fresh master key and salt, as mediasoup's srtpParameters carry them. */
export function newSrtpParameters(): SrtpParameters {
	return { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: randomBytes(KEY_BYTES + SALT_BYTES).toString('base64') };
}

/**
 * The SRTP key derivation function (RFC 3711 4.3.1, AES-CM PRF; RFC 7714 11):
 * the salt, padded to 16 bytes, XORed with the label at byte 7, is the IV of
 * AES-CTR under the master key; the keystream is the session key.
 */
function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
	const iv = Buffer.alloc(16);
	masterSalt.copy(iv, 0);
	iv[7]! ^= label;
	return createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv).update(Buffer.alloc(length));
}

/** The 12-byte IV: `bytes` written into zeros, XOR the session salt (RFC 7714 8.1, 9.1). */
function iv(salt: Buffer, ssrc: number, high: number, low: number, lowBytes: 2 | 4): Buffer {
	const out = Buffer.alloc(SALT_BYTES);
	out.writeUInt32BE(ssrc, 2);
	if (lowBytes === 2) {
		out.writeUInt32BE(high >>> 0, 6);
		out.writeUInt16BE(low, 10);
	} else {
		out.writeUInt32BE(low >>> 0, 8);
	}
	for (let i = 0; i < SALT_BYTES; i++) {
		out[i]! ^= salt[i]!;
	}
	return out;
}

/** Bytes of an RTP header: fixed part, CSRCs and the extension (RFC 3550 5.1, 5.3.1). */
export function rtpHeaderLength(rtp: Buffer): number {
	let length = 12 + (rtp[0]! & 0x0f) * 4;
	if (rtp[0]! & 0x10) {
		length += 4 + rtp.readUInt16BE(length + 2) * 4;
	}
	return length;
}

/** Rollover counters by SSRC (RFC 3711 3.3.1), one direction. */
class RolloverCounters {
	readonly #state = new Map<number, { roc: number; highest: number }>();

	/** The ROC a packet of `seq` most likely carries (RFC 3711 appendix A), not yet committed. */
	guess(ssrc: number, seq: number): number {
		const state = this.#state.get(ssrc);
		if (!state) {
			return 0;
		}
		if (state.highest < 0x8000) {
			return seq - state.highest > 0x8000 && state.roc > 0 ? state.roc - 1 : state.roc;
		}
		return state.highest - 0x8000 > seq ? (state.roc + 1) >>> 0 : state.roc;
	}

	/** Records a packet sent or authenticated with `roc`. */
	commit(ssrc: number, seq: number, roc: number): void {
		const state = this.#state.get(ssrc);
		if (!state || roc > state.roc || (roc === state.roc && seq > state.highest)) {
			this.#state.set(ssrc, { roc, highest: seq });
		}
	}
}

/** Session keys of one direction: RTP and RTCP, each a key and a salt. */
type Keys = { rtpKey: Buffer; rtpSalt: Buffer; rtcpKey: Buffer; rtcpSalt: Buffer };

function sessionKeys(masterKey: Buffer, masterSalt: Buffer): Keys {
	if (masterSalt.length !== SALT_BYTES || (masterKey.length !== 16 && masterKey.length !== 32)) {
		throw new Error(`AES-GCM SRTP needs a 16- or 32-byte key and a 12-byte salt, got ${masterKey.length} and ${masterSalt.length}`);
	}
	return {
		rtpKey: derive(masterKey, masterSalt, LABEL_RTP_ENCRYPTION, masterKey.length),
		rtpSalt: derive(masterKey, masterSalt, LABEL_RTP_SALT, SALT_BYTES),
		rtcpKey: derive(masterKey, masterSalt, LABEL_RTCP_ENCRYPTION, masterKey.length),
		rtcpSalt: derive(masterKey, masterSalt, LABEL_RTCP_SALT, SALT_BYTES),
	};
}

/** Protects the RTP and RTCP one endpoint sends (any number of SSRCs) under one master key. */
export class SrtpSender {
	readonly #keys: Keys;
	readonly #algorithm: string;
	readonly #roc = new RolloverCounters();
	#rtcpIndex = 0;

	constructor(masterKey: Buffer, masterSalt: Buffer) {
		this.#keys = sessionKeys(masterKey, masterSalt);
		this.#algorithm = `aes-${masterKey.length * 8}-gcm`;
	}

	/** From srtpParameters (a plain transport's): the key, then the salt. */
	static fromParameters(parameters: SrtpParameters): SrtpSender {
		const master = Buffer.from(parameters.keyBase64, 'base64');
		if (master.length !== KEY_BYTES + SALT_BYTES) {
			throw new Error(`AEAD_AES_256_GCM needs ${KEY_BYTES + SALT_BYTES} bytes of key and salt, got ${master.length}`);
		}
		return new SrtpSender(master.subarray(0, KEY_BYTES), master.subarray(KEY_BYTES));
	}

	/**
	 * An SRTP packet from an RTP packet of `headerLength` bytes of header
	 * (fixed header, CSRCs and extension): the header stays in clear as the
	 * AAD, the payload is encrypted and the 16-byte tag appended (RFC 7714 8).
	 */
	protect(rtp: Buffer, headerLength = rtpHeaderLength(rtp)): Buffer {
		const ssrc = rtp.readUInt32BE(8);
		const seq = rtp.readUInt16BE(2);
		// A sender's sequence numbers only go up: the guess is the wrap, if any.
		const roc = this.#roc.guess(ssrc, seq);
		this.#roc.commit(ssrc, seq, roc);
		const cipher = createCipheriv(this.#algorithm, this.#keys.rtpKey, iv(this.#keys.rtpSalt, ssrc, roc, seq, 2)) as CipherGCM;
		const header = rtp.subarray(0, headerLength);
		cipher.setAAD(header);
		const body = cipher.update(rtp.subarray(headerLength));
		cipher.final();
		return Buffer.concat([header, body, cipher.getAuthTag()], headerLength + body.length + TAG_BYTES);
	}

	/**
	 * An SRTCP packet from a (compound) RTCP packet (RFC 7714 9): the first 8
	 * bytes stay in clear, the rest is encrypted, then the tag and the E flag
	 * with the 31-bit SRTCP index; the AAD is those 8 bytes and that word.
	 */
	protectRtcp(rtcp: Buffer): Buffer {
		const index = this.#rtcpIndex;
		this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
		const word = Buffer.alloc(4);
		word.writeUInt32BE((SRTCP_E | index) >>> 0);
		const cipher = createCipheriv(this.#algorithm, this.#keys.rtcpKey, iv(this.#keys.rtcpSalt, rtcp.readUInt32BE(4), 0, index, 4)) as CipherGCM;
		const header = rtcp.subarray(0, 8);
		cipher.setAAD(Buffer.concat([header, word]));
		const body = cipher.update(rtcp.subarray(8));
		cipher.final();
		return Buffer.concat([header, body, cipher.getAuthTag(), word]);
	}
}

/** Authenticates and decrypts the SRTP and SRTCP one endpoint receives. */
export class SrtpReceiver {
	readonly #keys: Keys;
	readonly #algorithm: string;
	readonly #roc = new RolloverCounters();

	constructor(masterKey: Buffer, masterSalt: Buffer) {
		this.#keys = sessionKeys(masterKey, masterSalt);
		this.#algorithm = `aes-${masterKey.length * 8}-gcm`;
	}

	/** The RTP packet (header and payload, no tag), or undefined if it does not authenticate. */
	unprotect(srtp: Buffer): Buffer | undefined {
		if (srtp.length < 12 + TAG_BYTES) {
			return undefined;
		}
		const headerLength = rtpHeaderLength(srtp);
		if (headerLength > srtp.length - TAG_BYTES) {
			return undefined;
		}
		const ssrc = srtp.readUInt32BE(8);
		const seq = srtp.readUInt16BE(2);
		const roc = this.#roc.guess(ssrc, seq);
		const decipher = createDecipheriv(this.#algorithm, this.#keys.rtpKey, iv(this.#keys.rtpSalt, ssrc, roc, seq, 2)) as DecipherGCM;
		const header = srtp.subarray(0, headerLength);
		decipher.setAAD(header);
		decipher.setAuthTag(srtp.subarray(srtp.length - TAG_BYTES));
		const body = decipher.update(srtp.subarray(headerLength, srtp.length - TAG_BYTES));
		try {
			decipher.final();
		} catch {
			return undefined;
		}
		this.#roc.commit(ssrc, seq, roc);
		return Buffer.concat([header, body]);
	}

	/** The (compound) RTCP packet, or undefined if it does not authenticate. */
	unprotectRtcp(srtcp: Buffer): Buffer | undefined {
		if (srtcp.length < 8 + TAG_BYTES + 4) {
			return undefined;
		}
		const word = srtcp.subarray(srtcp.length - 4);
		const indexWord = word.readUInt32BE(0);
		const header = srtcp.subarray(0, 8);
		const body = srtcp.subarray(8, srtcp.length - 4 - TAG_BYTES);
		if ((indexWord & SRTCP_E) === 0) {
			// NOTE: unencrypted SRTCP (E = 0) is only authenticated; mediasoup always encrypts.
			return undefined;
		}
		const decipher = createDecipheriv(this.#algorithm, this.#keys.rtcpKey, iv(this.#keys.rtcpSalt, srtcp.readUInt32BE(4), 0, indexWord & 0x7fffffff, 4)) as DecipherGCM;
		decipher.setAAD(Buffer.concat([header, word]));
		decipher.setAuthTag(srtcp.subarray(srtcp.length - 4 - TAG_BYTES, srtcp.length - 4));
		const plain = decipher.update(body);
		try {
			decipher.final();
		} catch {
			return undefined;
		}
		return Buffer.concat([header, plain]);
	}
}
