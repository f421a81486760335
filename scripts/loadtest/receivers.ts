/**
 * The WebRTC receivers of a load run, one a subscriber: each has its own UDP
 * socket and connects through the transport's ICE and DTLS as a browser
 * does. One in `sampleEvery` is counted: it decrypts, sends receiver reports
 * and NACKs, and its packets go to the sink's counts; the others go silent
 * once connected (WebRtcReceiver.silence), and the kernel's drop counters of
 * their sockets count what the worker sent them, as the discard socket does
 * for plain receivers.
 */
import { newCertificate, type DtlsCertificate, type LocalDtlsParameters } from './dtls';
import type { Sink } from './sink';
import { WebRtcReceiver, type ConsumerOffer, type RemoteTransport } from './webrtcReceiver';

/** The kind of transport a load run's receivers use. */
export const TRANSPORT_KINDS = ['webrtc', 'plain'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** One subscriber's receiver, as a target uses it. */
export type LoadReceiver = {
	dtlsParameters: LocalDtlsParameters;
	/** ICE and DTLS, after the transport was given dtlsParameters. */
	connect(remote: RemoteTransport): Promise<void>;
	/** A consumer of this subscriber (its SSRCs). */
	expect(offer: ConsumerOffer): void;
};

export type ReceiverPoolOptions = {
	bindIp: string;
	sampleEvery: number;
	/** Share of video packets a counted receiver drops and NACKs. */
	lossRate: number;
};

export class WebRtcReceivers {
	readonly #sink: Sink;
	readonly #options: ReceiverPoolOptions;
	readonly #certificate: DtlsCertificate;
	readonly #receivers: WebRtcReceiver[] = [];
	#handedOut = 0;

	private constructor(sink: Sink, options: ReceiverPoolOptions, certificate: DtlsCertificate) {
		this.#sink = sink;
		this.#options = options;
		this.#certificate = certificate;
	}

	static async start(sink: Sink, options: ReceiverPoolOptions): Promise<WebRtcReceivers> {
		// NOTE: one certificate for every receiver (a browser makes one per peer connection); keys are per handshake.
		return new WebRtcReceivers(sink, options, await newCertificate());
	}

	async open(): Promise<LoadReceiver> {
		const counted = this.#handedOut++ % this.#options.sampleEvery === 0;
		const receiver = await WebRtcReceiver.create({
			certificate: this.#certificate,
			bindIp: this.#options.bindIp,
			lossRate: counted ? this.#options.lossRate : 0,
			onMedia: counted ? (ssrc, seq, timestamp, bytes) => this.#sink.record(ssrc, seq, timestamp, bytes) : undefined,
		});
		this.#receivers.push(receiver);
		this.#sink.watchPort(receiver.address.port, counted);
		return {
			dtlsParameters: receiver.dtlsParameters,
			expect: (offer) => receiver.expect(offer),
			connect: async (remote) => {
				await receiver.connect(remote);
				if (!counted) {
					receiver.silence();
				}
			},
		};
	}

	/** Counted receivers' totals: what their RTCP did, for the report. */
	totals(): { nacked: number; retransmissions: number; receiverReports: number; authFailures: number } {
		const sum = (key: 'nacked' | 'retransmissions' | 'receiverReports' | 'authFailures') =>
			this.#receivers.reduce((total, r) => total + r.stats[key], 0);
		return { nacked: sum('nacked'), retransmissions: sum('retransmissions'), receiverReports: sum('receiverReports'), authFailures: sum('authFailures') };
	}

	close(): void {
		for (const receiver of this.#receivers.splice(0)) {
			receiver.close();
		}
	}
}
