/**
 * SRTP with AEAD_AES_256_GCM (RFC 7714), sender side only: what a browser
 * negotiates with mediasoup, so the worker decrypts what it would decrypt for
 * a real client. Only RTP is protected; the generator sends no RTCP.
 */
import { createCipheriv, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 12;
const TAG_BYTES = 16;
const LABEL_RTP_ENCRYPTION = 0x00;
const LABEL_RTP_SALT = 0x02;

export type SrtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM'; keyBase64: string };

/** A fresh master key and salt, as mediasoup's srtpParameters carry them. */
export function newSrtpParameters(): SrtpParameters {
	return { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: randomBytes(KEY_BYTES + SALT_BYTES).toString('base64') };
}

/**
 * The SRTP key derivation function (RFC 3711 4.3.1, AES-CM PRF; RFC 7714 11):
 * the salt, padded to 14 bytes, XORed with the label at byte 7, is the IV of
 * AES-256-CTR under the master key; the keystream is the session key.
 */
function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
	const iv = Buffer.alloc(16);
	masterSalt.copy(iv, 0);
	iv[7]! ^= label;
	return createCipheriv('aes-256-ctr', masterKey, iv).update(Buffer.alloc(length));
}

/** Protects the RTP packets of one sender (any number of SSRCs) under one master key. */
export class SrtpSender {
	readonly #key: Buffer;
	readonly #salt: Buffer;
	/** Rollover counters by SSRC (RFC 3711 3.3.1), from the sequence numbers sent. */
	readonly #roc = new Map<number, { roc: number; lastSeq: number }>();

	constructor(parameters: SrtpParameters) {
		const master = Buffer.from(parameters.keyBase64, 'base64');
		if (master.length !== KEY_BYTES + SALT_BYTES) {
			throw new Error(`AEAD_AES_256_GCM needs ${KEY_BYTES + SALT_BYTES} bytes of key and salt, got ${master.length}`);
		}
		const masterKey = master.subarray(0, KEY_BYTES);
		const masterSalt = master.subarray(KEY_BYTES);
		this.#key = derive(masterKey, masterSalt, LABEL_RTP_ENCRYPTION, KEY_BYTES);
		this.#salt = derive(masterKey, masterSalt, LABEL_RTP_SALT, SALT_BYTES);
	}

	/**
	 * An SRTP packet from an RTP packet of `headerLength` bytes of header
	 * (fixed header, CSRCs and extension): the header stays in clear as the
	 * AAD, the payload is encrypted and the 16-byte tag appended (RFC 7714 8).
	 */
	protect(rtp: Buffer, headerLength: number): Buffer {
		const ssrc = rtp.readUInt32BE(8);
		const seq = rtp.readUInt16BE(2);
		const roc = this.#rolloverCounter(ssrc, seq);
		// IV: 00 00 || SSRC || ROC || SEQ, XOR the session salt (RFC 7714 8.1).
		const iv = Buffer.alloc(SALT_BYTES);
		iv.writeUInt32BE(ssrc, 2);
		iv.writeUInt32BE(roc, 6);
		iv.writeUInt16BE(seq, 10);
		for (let i = 0; i < SALT_BYTES; i++) {
			iv[i]! ^= this.#salt[i]!;
		}
		const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
		const header = rtp.subarray(0, headerLength);
		cipher.setAAD(header);
		const body = cipher.update(rtp.subarray(headerLength));
		cipher.final();
		return Buffer.concat([header, body, cipher.getAuthTag()], headerLength + body.length + TAG_BYTES);
	}

	#rolloverCounter(ssrc: number, seq: number): number {
		const state = this.#roc.get(ssrc);
		if (!state) {
			this.#roc.set(ssrc, { roc: 0, lastSeq: seq });
			return 0;
		}
		// A sender's sequence numbers only go up: a wrap is a smaller number.
		if (seq < state.lastSeq && state.lastSeq - seq > 0x8000) {
			state.roc = (state.roc + 1) >>> 0;
		}
		state.lastSeq = seq;
		return state.roc;
	}
}
