import type { types as msc } from 'mediasoup-client';
import type { PeerInfo, ServerEventData, Source } from '../../signaling/protocol';
import type { FrameCrypto } from './e2ee/FrameCrypto';

/** A remote track the session consumes, for the UI. */
export type RemoteTrack = {
	consumerId: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	track: MediaStreamTrack;
	ssrc: number | undefined;
	/** The producer is paused (muted microphone, camera off). */
	paused: boolean;
};

/** A consumer as the session holds it: whose track, which source, and whether its producer is paused. */
export type RemoteConsumer = { consumer: msc.Consumer; peerId: string; source: Source; paused: boolean };

/** What the UI hears about remote tracks. */
export type TrackListener = {
	trackAdded(track: RemoteTrack): void;
	trackRemoved(consumerId: string): void;
	trackPaused(consumerId: string, paused: boolean): void;
};

/** consumer.closed ids remembered for a consumer.new still on its way; bounded. */
const CLOSED_EARLY_MAX = 256;

/**
 * The remote tracks a session consumes: a mediasoup-client Consumer for each
 * consumer.new, on the receive transport. A consumer goes on consumer.closed,
 * or with the receive transport (which closes its consumers); either way the
 * UI hears trackRemoved once.
 */
export class Subscriber {
	readonly #consumers = new Map<string, RemoteConsumer>();
	readonly #closedEarly = new Set<string>();

	/** `recv`: the receive transport of the moment (a rebuild replaces it); `e2ee`: every consumer's frames are opened. */
	constructor(
		private readonly recv: () => msc.Transport | undefined,
		private readonly listener: TrackListener,
		private readonly e2ee?: FrameCrypto,
	) {}

	get consumers(): ReadonlyMap<string, RemoteConsumer> {
		return this.#consumers;
	}

	/**
	 * Receives what a consumer.new offers. Rejects (and the server closes the
	 * consumer) when the consumer closed first or there is no receive transport.
	 */
	async consume(data: ServerEventData<'consumer.new'>): Promise<void> {
		if (this.#closedEarly.delete(data.consumerId)) {
			throw new Error('the consumer closed before it was offered');
		}
		const transport = this.recv();
		if (!transport || transport.closed) {
			throw new Error('no receive transport');
		}
		const consumer = await transport.consume({
			id: data.consumerId,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters as msc.RtpParameters,
			// NOTE: before the receiver has a frame: none is decoded without the transform.
			onRtpReceiver: this.e2ee?.receiver(data.consumerId, data.kind),
		});
		if (this.#closedEarly.delete(consumer.id) || transport !== this.recv()) {
			consumer.close();
			throw new Error('the consumer closed while it was set up');
		}
		this.#consumers.set(consumer.id, { consumer, peerId: data.peerId, source: data.source, paused: data.producerPaused });
		consumer.on('transportclose', () => this.#forget(consumer.id));
		this.listener.trackAdded({
			consumerId: consumer.id,
			producerId: data.producerId,
			peerId: data.peerId,
			kind: data.kind,
			source: data.source,
			track: consumer.track,
			ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc,
			paused: data.producerPaused,
		});
	}

	/** consumer.closed: the consumer closes; one not offered yet is remembered so that its consumer.new is refused. */
	drop(consumerId: string): void {
		const entry = this.#consumers.get(consumerId);
		if (!entry) {
			this.#closedEarly.add(consumerId);
			if (this.#closedEarly.size > CLOSED_EARLY_MAX) {
				this.#closedEarly.delete(this.#closedEarly.values().next().value!);
			}
			return;
		}
		entry.consumer.close();
		this.#forget(consumerId);
	}

	/** consumer.paused / consumer.resumed: the consumer's producer was paused or resumed. */
	setPaused(consumerId: string, paused: boolean): void {
		const entry = this.#consumers.get(consumerId);
		if (!entry) {
			return;
		}
		entry.paused = paused;
		this.listener.trackPaused(consumerId, paused);
	}

	/**
	 * Events lost while away: consumers of producers that closed meanwhile go,
	 * and each consumer takes its producer's paused state.
	 */
	reconcile(peers: PeerInfo[]): void {
		const producers = new Map(peers.flatMap((p) => p.producers).map((p) => [p.id, p]));
		for (const [consumerId, entry] of [...this.#consumers]) {
			const producer = producers.get(entry.consumer.producerId);
			if (!producer) {
				this.drop(consumerId);
			} else if (producer.paused !== entry.paused) {
				this.setPaused(consumerId, producer.paused);
			}
		}
	}

	#forget(consumerId: string): void {
		if (this.#consumers.delete(consumerId)) {
			this.listener.trackRemoved(consumerId);
		}
	}
}
