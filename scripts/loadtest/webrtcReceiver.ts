/**
 * A load receiver that connects as a browser's receive transport does: one
 * UDP socket, ICE checks to the transport's UDP candidate (the worker's
 * WebRtcServer port, shared by every transport and demultiplexed by tuple),
 * DTLS-SRTP with AES-GCM, then it decrypts every packet, answers sender
 * reports with receiver reports (so the worker computes the round trip) and
 * NACKs the packets it misses. `lossRate` drops that share of video packets
 * on arrival, evenly spaced, so that NACKs and retransmissions happen at a
 * known rate. Datagrams are told apart by their first byte (RFC 7983).
 *
 * Not done yet, unlike a browser: transport-wide congestion control feedback
 * (or REMB), PLI/FIR, SDES, and decoding.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { DtlsSession, isDtls, localDtlsParameters, type DtlsCertificate, type LocalDtlsParameters, type SrtpProfileName } from './dtls';
import { genericNack, isRtcp, MAX_REPORT_BLOCKS, receiverReport, ReceptionStats, senderReports } from './rtcp';
import { SrtpReceiver, SrtpSender, rtpHeaderLength } from './srtp';
import { bindingRequest, isStun, parseBindingResponse } from './stun';

const PROBATION_SSRC = 1234;
const ICE_RETRY_MS = 50;
const CONSENT_INTERVAL_MS = 2500;
const NACK_TRIES = 3;

/** What a receive transport's creator hands the client (mediasoup's WebRtcTransport fields). */
export type RemoteTransport = {
	iceParameters: { usernameFragment: string; password: string };
	iceCandidates: readonly { ip?: string; address?: string; port: number; protocol: string }[];
	dtlsParameters: { fingerprints: readonly { algorithm: string; value: string }[] };
};

/** A consumer as its offer describes it: its kind and RTP parameters. */
export type ConsumerOffer = {
	kind: 'audio' | 'video';
	rtpParameters: { codecs: readonly { mimeType: string; clockRate: number }[]; encodings?: readonly { ssrc?: number; rtx?: { ssrc: number } }[] };
};

export type WebRtcReceiverOptions = {
	certificate: DtlsCertificate;
	bindIp: string;
	/** Share of video packets dropped on arrival (0 to 0.5); they are NACKed. */
	lossRate?: number;
	/** Interval of receiver reports (and NACK retries), ms. */
	rtcpIntervalMs?: number;
	/** Each media packet received (a retransmission with its original SSRC and sequence number). */
	onMedia?: (ssrc: number, seq: number, timestamp: number, bytes: number) => void;
};

export type WebRtcReceiverStats = {
	profile?: SrtpProfileName;
	/** SRTP packets that arrived (probation included) and those that authenticated. */
	packets: number;
	decrypted: number;
	authFailures: number;
	/** Packets that came before our side of the DTLS handshake had ended. */
	beforeKeys: number;
	probation: number;
	/** Video packets dropped on purpose (lossRate), NACK items sent, retransmissions (RTX) received. */
	dropped: number;
	nacked: number;
	retransmissions: number;
	senderReports: number;
	receiverReports: number;
};

type Stream = { stats: ReceptionStats; kind: 'audio' | 'video' };

export class WebRtcReceiver {
	readonly dtlsParameters: LocalDtlsParameters;
	readonly #socket = dgram.createSocket('udp4');
	readonly #options: WebRtcReceiverOptions;
	readonly #ufrag = randomBytes(6).toString('hex');
	readonly #tieBreaker = randomBytes(8);
	readonly #ssrc = randomBytes(4).readUInt32BE(0);
	readonly #streams = new Map<number, Stream>();
	/** RTX SSRC -> the media SSRC it repairs. */
	readonly #rtx = new Map<number, number>();
	/** Per media SSRC: missing extended sequence numbers and the NACKs each got. */
	readonly #missing = new Map<number, Map<number, number>>();
	readonly #stats: WebRtcReceiverStats = {
		packets: 0, decrypted: 0, authFailures: 0, beforeKeys: 0, probation: 0, dropped: 0, nacked: 0, retransmissions: 0, senderReports: 0, receiverReports: 0,
	};
	#remote: { ip: string; port: number } | undefined;
	#dtls: DtlsSession | undefined;
	#srtpIn: SrtpReceiver | undefined;
	#srtpOut: SrtpSender | undefined;
	#onStun: ((data: Buffer) => void) | undefined;
	#timers: NodeJS.Timeout[] = [];
	#videoSeen = 0;
	#closed = false;

	private constructor(options: WebRtcReceiverOptions) {
		this.#options = options;
		this.dtlsParameters = localDtlsParameters(options.certificate);
		this.#socket.on('message', (data) => this.#onDatagram(data));
		this.#socket.on('error', () => undefined);
	}

	static async create(options: WebRtcReceiverOptions): Promise<WebRtcReceiver> {
		const receiver = new WebRtcReceiver(options);
		await new Promise<void>((resolve) => receiver.#socket.bind(0, options.bindIp, resolve));
		return receiver;
	}

	/** Our socket's address (the tuple's remote side, for the worker). */
	get address(): { ip: string; port: number } {
		const { address, port } = this.#socket.address();
		return { ip: address, port };
	}

	get stats(): Readonly<WebRtcReceiverStats> {
		return this.#stats;
	}

	/**
	 * ICE (checks until one succeeds) and the DTLS handshake. The transport
	 * must already know our dtlsParameters (transport.connect()).
	 * @throws when either does not complete within `timeoutMs`
	 */
	async connect(remote: RemoteTransport, timeoutMs = 10_000): Promise<void> {
		const candidate = remote.iceCandidates.find((c) => c.protocol === 'udp');
		if (!candidate) {
			throw new Error('the transport has no UDP candidate');
		}
		this.#remote = { ip: candidate.ip ?? candidate.address!, port: candidate.port };
		const deadline = Date.now() + timeoutMs;
		await this.#iceCheck(remote.iceParameters, timeoutMs);
		const consent = setInterval(() => this.#send(this.#request(remote.iceParameters).packet), CONSENT_INTERVAL_MS);
		this.#timers.push(consent);
		this.#dtls = new DtlsSession(this.#options.certificate, (data) => this.#send(data));
		const keys = await this.#dtls.connect(remote.dtlsParameters.fingerprints, Math.max(1, deadline - Date.now()));
		this.#stats.profile = keys.profile;
		this.#srtpIn = new SrtpReceiver(keys.remoteKey, keys.remoteSalt);
		this.#srtpOut = new SrtpSender(keys.localKey, keys.localSalt);
		this.#timers.push(setInterval(() => this.#sendFeedback(), this.#options.rtcpIntervalMs ?? 1000));
	}

	/** Tells the receiver of a consumer: its SSRCs, kind and clock rate (for reports, loss and NACKs). */
	expect(offer: ConsumerOffer): void {
		const encoding = offer.rtpParameters.encodings?.[0];
		const clockRate = offer.rtpParameters.codecs[0]?.clockRate ?? 90_000;
		if (encoding?.ssrc === undefined) {
			return;
		}
		this.#streams.set(encoding.ssrc, { stats: new ReceptionStats(encoding.ssrc, clockRate), kind: offer.kind });
		if (encoding.rtx) {
			this.#rtx.set(encoding.rtx.ssrc, encoding.ssrc);
		}
	}

	#request(ice: RemoteTransport['iceParameters']) {
		return bindingRequest({ remoteUfrag: ice.usernameFragment, localUfrag: this.#ufrag, password: ice.password, tieBreaker: this.#tieBreaker });
	}

	/** Sends Binding requests until one is answered with a success that verifies. */
	async #iceCheck(ice: RemoteTransport['iceParameters'], timeoutMs: number): Promise<void> {
		const sent = new Set<string>();
		await new Promise<void>((resolve, reject) => {
			const send = () => {
				const request = this.#request(ice);
				sent.add(request.transactionId.toString('hex'));
				this.#send(request.packet);
			};
			const retry = setInterval(send, ICE_RETRY_MS);
			const timer = setTimeout(() => finish(new Error(`ICE: no success response in ${timeoutMs} ms`)), timeoutMs);
			const finish = (error?: Error) => {
				clearInterval(retry);
				clearTimeout(timer);
				this.#onStun = undefined;
				error ? reject(error) : resolve();
			};
			this.#onStun = (data) => {
				const response = parseBindingResponse(data, ice.password);
				if (!response || !sent.has(response.transactionId.toString('hex'))) {
					return;
				}
				finish(response.ok ? undefined : new Error(`ICE: ${response.error}`));
			};
			send();
		});
	}

	#send(data: Buffer): void {
		if (!this.#closed && this.#remote) {
			this.#socket.send(data, this.#remote.port, this.#remote.ip);
		}
	}

	#onDatagram(data: Buffer): void {
		if (isStun(data)) {
			this.#onStun?.(data);
		} else if (isDtls(data)) {
			this.#dtls?.receive(data);
		} else if (data.length >= 12 && data[0]! >= 128 && data[0]! <= 191) {
			if (isRtcp(data)) {
				this.#onRtcp(data);
			} else {
				this.#onRtp(data);
			}
		}
	}

	#onRtp(data: Buffer): void {
		this.#stats.packets++;
		const ssrc = data.readUInt32BE(8);
		if (ssrc === PROBATION_SSRC) {
			this.#stats.probation++;
			return;
		}
		const stream = this.#streams.get(ssrc);
		const lossRate = this.#options.lossRate ?? 0;
		if (stream?.kind === 'video' && lossRate > 0 && ++this.#videoSeen % Math.round(1 / lossRate) === 0) {
			this.#stats.dropped++;
			return;
		}
		const rtp = this.#open(data, 'rtp');
		if (!rtp) {
			return;
		}
		this.#stats.decrypted++;
		const now = performance.now();
		const repaired = this.#rtx.get(ssrc);
		if (repaired !== undefined) {
			// RTX (RFC 4588): the original sequence number opens the payload.
			const osn = rtp.readUInt16BE(rtpHeaderLength(rtp));
			this.#stats.retransmissions++;
			this.#repaired(repaired, osn);
			this.#streams.get(repaired)?.stats.received(osn, undefined, now);
			this.#options.onMedia?.(repaired, osn, rtp.readUInt32BE(4), data.length);
			return;
		}
		const seq = rtp.readUInt16BE(2);
		const timestamp = rtp.readUInt32BE(4);
		this.#options.onMedia?.(ssrc, seq, timestamp, data.length);
		if (!stream) {
			return;
		}
		const gaps = stream.stats.received(seq, timestamp, now);
		if (gaps.length > 0 && stream.kind === 'video') {
			const missing = this.#missing.get(ssrc) ?? new Map<number, number>();
			this.#missing.set(ssrc, missing);
			for (const s of gaps) {
				missing.set(s, 1);
			}
			this.#sendRtcp([genericNack(this.#ssrc, ssrc, gaps)]);
			this.#stats.nacked += gaps.length;
		}
	}

	/** An SRTP or SRTCP packet decrypted, or undefined, counted: before the keys, or failing authentication. */
	#open(data: Buffer, kind: 'rtp' | 'rtcp'): Buffer | undefined {
		if (!this.#srtpIn) {
			// NOTE: the worker sends once its side of the handshake ends, a little before ours.
			this.#stats.beforeKeys++;
			return undefined;
		}
		const clear = kind === 'rtp' ? this.#srtpIn.unprotect(data) : this.#srtpIn.unprotectRtcp(data);
		if (!clear) {
			this.#stats.authFailures++;
		}
		return clear;
	}

	/** Forgets a missing packet that a retransmission repaired (the map holds extended sequence numbers). */
	#repaired(ssrc: number, osn: number): void {
		const missing = this.#missing.get(ssrc);
		for (const seq of missing?.keys() ?? []) {
			if ((seq & 0xffff) === osn) {
				missing!.delete(seq);
			}
		}
	}

	#onRtcp(data: Buffer): void {
		const rtcp = this.#open(data, 'rtcp');
		if (!rtcp) {
			return;
		}
		const now = performance.now();
		for (const sr of senderReports(rtcp)) {
			this.#stats.senderReports++;
			this.#streams.get(sr.ssrc)?.stats.senderReport(sr.ntpMiddle, now);
		}
	}

	/** The periodic compound: a receiver report of every stream, then NACK retries. */
	#sendFeedback(): void {
		const now = performance.now();
		const blocks = [...this.#streams.values()].flatMap((s) => s.stats.reportBlock(now) ?? []);
		const packets: Buffer[] = [];
		for (let i = 0; i === 0 || i < blocks.length; i += MAX_REPORT_BLOCKS) {
			packets.push(receiverReport(this.#ssrc, blocks.slice(i, i + MAX_REPORT_BLOCKS)));
		}
		this.#stats.receiverReports++;
		for (const [ssrc, missing] of this.#missing) {
			const retry: number[] = [];
			for (const [seq, tries] of missing) {
				if (tries >= NACK_TRIES) {
					missing.delete(seq);
				} else {
					missing.set(seq, tries + 1);
					retry.push(seq);
				}
			}
			if (retry.length > 0) {
				packets.push(genericNack(this.#ssrc, ssrc, retry));
				this.#stats.nacked += retry.length;
			}
		}
		this.#sendRtcp(packets);
	}

	#sendRtcp(packets: Buffer[]): void {
		if (this.#srtpOut) {
			this.#send(this.#srtpOut.protectRtcp(Buffer.concat(packets)));
		}
	}

	/**
	 * Stops reading and sending (no RTCP, no consent checks): the kernel
	 * queues what the worker sends until the socket's buffer is full, then
	 * drops it and counts the drops (/proc/net/udp). For the receivers a run
	 * does not count: reading every one would load the generator's core more
	 * than forwarding loads the worker's (scripts/loadtest/sink.ts).
	 */
	silence(): void {
		for (const timer of this.#timers.splice(0)) {
			clearInterval(timer);
		}
		this.#socket.setRecvBufferSize(64 * 1024);
		// NOTE: dgram has no public way to stop reading; its handle has (Node's internal "state symbol").
		const state = Object.getOwnPropertySymbols(this.#socket).find((s) => s.description === 'state symbol');
		const handle = state && (this.#socket as unknown as Record<symbol, { handle?: { recvStop?: () => number } }>)[state]?.handle;
		if (typeof handle?.recvStop !== 'function') {
			throw new Error('this Node.js has no way to stop reading a UDP socket: run with --sample-every 1');
		}
		handle.recvStop();
	}

	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		for (const timer of this.#timers) {
			clearInterval(timer);
		}
		this.#dtls?.close();
		this.#socket.close();
	}
}
