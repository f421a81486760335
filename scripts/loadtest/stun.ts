/**
 * The STUN of an ICE connectivity check (RFC 8489, RFC 8445 7.1), client
 * side only: mediasoup is ICE-lite, so a browser is the controlling agent,
 * sends every check and nominates the pair (USE-CANDIDATE). A Binding
 * request carries USERNAME `remoteUfrag:localUfrag`, PRIORITY,
 * ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY (HMAC-SHA1 keyed with the
 * remote password) and FINGERPRINT; the success response is checked the same
 * way and its XOR-MAPPED-ADDRESS read.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const MAGIC_COOKIE = 0x2112a442;
const HEADER_BYTES = 20;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;
const FINGERPRINT_XOR = 0x5354554e;

const ATTR = {
	USERNAME: 0x0006,
	MESSAGE_INTEGRITY: 0x0008,
	ERROR_CODE: 0x0009,
	XOR_MAPPED_ADDRESS: 0x0020,
	PRIORITY: 0x0024,
	USE_CANDIDATE: 0x0025,
	FINGERPRINT: 0x8028,
	ICE_CONTROLLING: 0x802a,
} as const;

/** A host candidate's priority for UDP (RFC 8445 5.1.2.1: type preference 126, local preference 65535, component 1). */
export const HOST_PRIORITY = (126 << 24) + (65535 << 8) + (256 - 1);

export type BindingRequest = { transactionId: Buffer; packet: Buffer };

export type BindingResponse =
	| { ok: true; transactionId: Buffer; mapped?: { ip: string; port: number } }
	| { ok: false; transactionId: Buffer; error: string };

/** Whether a datagram is STUN (RFC 7983: first byte 0-3). */
export function isStun(data: Buffer): boolean {
	return data.length >= HEADER_BYTES && data[0]! <= 3 && data.readUInt32BE(4) === MAGIC_COOKIE;
}

function attribute(type: number, value: Buffer): Buffer {
	const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
	padded.writeUInt16BE(type, 0);
	padded.writeUInt16BE(value.length, 2);
	value.copy(padded, 4);
	return padded;
}

function uint32(value: number): Buffer {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(value >>> 0);
	return b;
}

/** The header with a length that counts `bodyBytes` of attributes. */
function header(type: number, bodyBytes: number, transactionId: Buffer): Buffer {
	const h = Buffer.alloc(HEADER_BYTES);
	h.writeUInt16BE(type, 0);
	h.writeUInt16BE(bodyBytes, 2);
	h.writeUInt32BE(MAGIC_COOKIE, 4);
	transactionId.copy(h, 8);
	return h;
}

/**
 * MESSAGE-INTEGRITY over `attributes` (RFC 8489 14.5): HMAC-SHA1 of the
 * header and the attributes before it, with the header's length already
 * counting the 24 bytes of the MESSAGE-INTEGRITY attribute.
 */
function integrity(type: number, transactionId: Buffer, attributes: Buffer, password: string): Buffer {
	const h = header(type, attributes.length + 24, transactionId);
	return createHmac('sha1', password).update(h).update(attributes).digest();
}

/**
 * A Binding request of the controlling agent that nominates the pair.
 * `password` is the remote agent's (the transport's iceParameters.password).
 */
export function bindingRequest({ remoteUfrag, localUfrag, password, tieBreaker, priority = HOST_PRIORITY }: {
	remoteUfrag: string; localUfrag: string; password: string; tieBreaker: Buffer; priority?: number;
}): BindingRequest {
	const transactionId = randomBytes(12);
	const attributes = Buffer.concat([
		attribute(ATTR.USERNAME, Buffer.from(`${remoteUfrag}:${localUfrag}`, 'utf8')),
		attribute(ATTR.PRIORITY, uint32(priority)),
		attribute(ATTR.ICE_CONTROLLING, tieBreaker),
		attribute(ATTR.USE_CANDIDATE, Buffer.alloc(0)),
	]);
	const withIntegrity = Buffer.concat([attributes, attribute(ATTR.MESSAGE_INTEGRITY, integrity(BINDING_REQUEST, transactionId, attributes, password))]);
	// FINGERPRINT (RFC 8489 14.7): CRC-32 of everything before it, the length counting its 8 bytes, XOR "STUN".
	const h = header(BINDING_REQUEST, withIntegrity.length + 8, transactionId);
	const fingerprint = (crc32(Buffer.concat([h, withIntegrity])) ^ FINGERPRINT_XOR) >>> 0;
	return { transactionId, packet: Buffer.concat([h, withIntegrity, attribute(ATTR.FINGERPRINT, uint32(fingerprint))]) };
}

/**
 * Parses a Binding response; a success must carry a MESSAGE-INTEGRITY that
 * `password` (the remote agent's) verifies. Undefined for anything else.
 */
export function parseBindingResponse(data: Buffer, password: string): BindingResponse | undefined {
	if (!isStun(data)) {
		return undefined;
	}
	const type = data.readUInt16BE(0);
	const length = data.readUInt16BE(2);
	const transactionId = Buffer.from(data.subarray(8, HEADER_BYTES));
	if ((type !== BINDING_SUCCESS && type !== BINDING_ERROR) || HEADER_BYTES + length > data.length) {
		return undefined;
	}
	let mapped: { ip: string; port: number } | undefined;
	let verified = false;
	let error: string | undefined;
	for (let offset = HEADER_BYTES; offset + 4 <= HEADER_BYTES + length;) {
		const attrType = data.readUInt16BE(offset);
		const attrLength = data.readUInt16BE(offset + 2);
		const value = data.subarray(offset + 4, offset + 4 + attrLength);
		if (attrType === ATTR.XOR_MAPPED_ADDRESS && value.length >= 8 && value[1] === 0x01) {
			const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
			const ip = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
			mapped = { ip: [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.'), port };
		} else if (attrType === ATTR.ERROR_CODE && value.length >= 4) {
			error = `${value[2]! * 100 + value[3]!} ${value.subarray(4).toString('utf8')}`;
		} else if (attrType === ATTR.MESSAGE_INTEGRITY) {
			const expected = integrity(type, transactionId, data.subarray(HEADER_BYTES, offset), password);
			verified = expected.equals(value);
		}
		offset += 4 + Math.ceil(attrLength / 4) * 4;
	}
	if (type === BINDING_ERROR) {
		return { ok: false, transactionId, error: error ?? 'error response' };
	}
	return verified ? { ok: true, transactionId, mapped } : { ok: false, transactionId, error: 'MESSAGE-INTEGRITY did not verify' };
}
