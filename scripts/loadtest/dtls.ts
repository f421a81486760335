/**
 * The DTLS-SRTP handshake of a WebRTC receiver (RFC 5764), as a browser does
 * it against mediasoup: we are the DTLS client (mediasoup's role 'server'),
 * with a self-signed ECDSA certificate whose SHA-256 fingerprint the
 * transport is told through transport.connect(), and we check the server's
 * certificate against the fingerprint of its dtlsParameters. The use_srtp
 * extension offers AEAD_AES_256_GCM, then AEAD_AES_128_GCM; the SRTP master
 * keys come from the exporter "EXTRACTOR-dtls_srtp" (RFC 5705).
 *
 * werift-dtls speaks the records; this module owns neither socket nor
 * timer: the caller passes it the DTLS datagrams (first byte 20-63, RFC 7983)
 * and gives it a way to send.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CipherContext, DtlsClient, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm } from 'werift-dtls/lib/dtls/src';

/** SRTP protection profiles (IANA DTLS-SRTP registry). */
const PROFILES = { AEAD_AES_128_GCM: 0x0007, AEAD_AES_256_GCM: 0x0008 } as const;
export type SrtpProfileName = keyof typeof PROFILES;
const KEY_BYTES: Record<SrtpProfileName, number> = { AEAD_AES_128_GCM: 16, AEAD_AES_256_GCM: 32 };
const SALT_BYTES = 12;

export type DtlsCertificate = { certPem: string; keyPem: string; fingerprint: { algorithm: 'sha-256'; value: string } };

/** Our DTLS parameters for transport.connect(): role client, our certificate's fingerprint. */
export type LocalDtlsParameters = { role: 'client'; fingerprints: { algorithm: 'sha-256'; value: string }[] };

export type SrtpKeys = { profile: SrtpProfileName; localKey: Buffer; localSalt: Buffer; remoteKey: Buffer; remoteSalt: Buffer };

/** A self-signed ECDSA P-256 certificate and its SHA-256 fingerprint (one per load generator is enough). */
export async function newCertificate(): Promise<DtlsCertificate> {
	const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(
		{ hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 }, NamedCurveAlgorithm.secp256r1_23);
	return { certPem, keyPem, fingerprint: { algorithm: 'sha-256', value: new X509Certificate(certPem).fingerprint256 } };
}

export function localDtlsParameters(certificate: DtlsCertificate): LocalDtlsParameters {
	return { role: 'client', fingerprints: [certificate.fingerprint] };
}

/** "AB:CD:..." of SHA-256 over a DER certificate. */
function fingerprintOf(der: Buffer): string {
	return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** Whether a datagram is DTLS (RFC 7983: first byte 20-63). */
export function isDtls(data: Buffer): boolean {
	return data.length > 0 && data[0]! >= 20 && data[0]! <= 63;
}

/** One DTLS client association over a datagram path the caller owns. */
export class DtlsSession {
	readonly #client: DtlsClient;
	readonly #transport: { onData: (data: Buffer, addr?: unknown) => void };

	constructor(certificate: DtlsCertificate, send: (data: Buffer) => void) {
		const transport = {
			type: 'udp',
			address: {},
			closed: false,
			onData: (_data: Buffer) => undefined as void,
			send: async (data: Buffer) => send(data),
			close: async () => undefined,
		};
		this.#transport = transport;
		this.#client = new DtlsClient({
			transport: transport as unknown as ConstructorParameters<typeof DtlsClient>[0]['transport'],
			cert: certificate.certPem,
			key: certificate.keyPem,
			signatureHash: { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
			// NOTE: werift-dtls's type lists profiles 1 and 7 only; the handshake itself takes any id.
			srtpProfiles: [PROFILES.AEAD_AES_256_GCM, PROFILES.AEAD_AES_128_GCM] as unknown as (1 | 7)[],
			extendedMasterSecret: true,
		});
	}

	/** Feeds a DTLS datagram from the remote end. */
	receive(data: Buffer): void {
		// NOTE: DtlsSocket replaced the transport's onData with its own reader when it was built.
		this.#transport.onData(data);
	}

	/**
	 * Runs the handshake to its end and checks the server's certificate
	 * against `remoteFingerprints` (the transport's dtlsParameters).
	 * @throws on a timeout, an unknown profile or a certificate that does not match
	 */
	async connect(remoteFingerprints: readonly { algorithm: string; value: string }[], timeoutMs: number): Promise<SrtpKeys> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`DTLS handshake: no answer in ${timeoutMs} ms`)), timeoutMs);
		});
		try {
			await Promise.race([this.#client.connect(), timeout]);
		} finally {
			clearTimeout(timer);
		}
		const der = this.#client.remoteCertificate;
		const expected = remoteFingerprints.find((f) => f.algorithm === 'sha-256')?.value.toUpperCase();
		if (!der || !expected || fingerprintOf(der) !== expected) {
			throw new Error('DTLS handshake: the server\'s certificate does not match its sha-256 fingerprint');
		}
		const id = this.#client.srtp.srtpProfile as number | undefined;
		const profile = (Object.keys(PROFILES) as SrtpProfileName[]).find((name) => PROFILES[name] === id);
		if (!profile) {
			throw new Error(`DTLS handshake: SRTP profile ${id} was not offered`);
		}
		const keyBytes = KEY_BYTES[profile];
		const material = this.#client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 2 * (keyBytes + SALT_BYTES));
		// RFC 5764 4.2: client key, server key, client salt, server salt; we are the client.
		return {
			profile,
			localKey: material.subarray(0, keyBytes),
			remoteKey: material.subarray(keyBytes, 2 * keyBytes),
			localSalt: material.subarray(2 * keyBytes, 2 * keyBytes + SALT_BYTES),
			remoteSalt: material.subarray(2 * keyBytes + SALT_BYTES),
		};
	}

	close(): void {
		try {
			this.#client.close();
		} catch {
			// Closing an association that never opened.
		}
	}
}
