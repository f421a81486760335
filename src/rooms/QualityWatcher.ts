import type { ms } from '../media';
import { qualityOf, type ConsumerDecision, type Quality, type QualityInput } from '../policy';
import { throttle, type Throttled } from '../util';
import type { ConsumerAppData } from './types';

/**
 * One consumer's connection quality (src/policy/quality.ts), kept by its
 * Subscription. It reads the consumer's score and the layers received
 * (mediasoup's `score` and `layerschange`), and from each policy pass what the
 * subscriber's tile calls for before the downlink is fitted. NOTE: the layers
 * mediasoup prefers are no yardstick: to fit a capped downlink the policy
 * lowers them itself, so the layer received is compared with what the tile
 * wanted. It reports a quality only when it changes, at most once per
 * `intervalMs` (the latest). NOTE: mediasoup emits `score` only when it
 * changes, and a consumer of a publisher already sending starts at its final
 * score: so the watcher starts from `consumer.score`, and reports its first
 * quality when `start()` says the client has the consumer.
 */
export class QualityWatcher {
	readonly #consumer: ms.Consumer<ConsumerAppData>;
	readonly #report: Throttled<[Quality]>;
	#score: ms.ConsumerScore;
	#wanted: ConsumerDecision | undefined;
	#pausedToFit = false;
	/** A layer was received since the consumer last started: until then none is not a fault. */
	#receiving = false;
	#started = false;
	#computed: Quality | undefined;
	#reported: Quality | undefined;

	constructor(consumer: ms.Consumer<ConsumerAppData>, report: (quality: Quality) => void, intervalMs: number) {
		this.#consumer = consumer;
		this.#report = throttle(intervalMs, (quality: Quality) => {
			if (quality !== this.#reported) {
				this.#reported = quality;
				report(quality);
			}
		});
		this.#score = consumer.score;
		consumer.on('score', (score) => {
			this.#score = score;
			this.#update();
		});
		consumer.on('producerpause', () => this.#update());
		consumer.on('producerresume', () => this.#update());
		consumer.on('layerschange', (layers) => {
			this.#receiving ||= layers !== undefined && layers !== null;
			this.#update();
		});
	}

	/** The client has the consumer (it acknowledged it): reports from now on. */
	start(): void {
		this.#started = true;
		this.#update();
	}

	/** The quality last worked out. */
	get quality(): Quality | undefined {
		return this.#computed;
	}

	/** A policy pass: what the tile calls for, and what was decided (paused to fit the downlink, or not). */
	decided(wanted: ConsumerDecision, decided: ConsumerDecision): void {
		this.#wanted = wanted;
		this.#pausedToFit = decided.paused && !wanted.paused;
		this.#update();
	}

	/** Drops a report held back (the consumer closed). */
	close(): void {
		this.#report.cancel();
	}

	#update(): void {
		if (!this.#started) {
			return;
		}
		const quality = qualityOf({ score: this.#score.score, ...this.#layers() });
		if (quality !== this.#computed) {
			this.#computed = quality;
			this.#report(quality);
		}
	}

	#layers(): Pick<QualityInput, 'layers'> {
		const consumer = this.#consumer;
		const wanted = this.#wanted;
		if (consumer.kind !== 'video' || consumer.type !== 'simulcast' || !wanted) {
			return {};
		}
		if (this.#pausedToFit) {
			return { layers: { wanted: wanted.spatialLayer, received: null, pausedToFit: true } };
		}
		if (wanted.paused || consumer.paused || consumer.producerPaused) {
			// Hidden, paused by the viewer or by its publisher: nothing is expected.
			this.#receiving = false;
			return {};
		}
		const received = consumer.currentLayers?.spatialLayer;
		const sent = sentLayer(this.#score.producerScores);
		if ((received === undefined && !this.#receiving) || (sent !== undefined && sent < 0)) {
			// Nothing received yet since it started, or nothing sent by the publisher: no fault of this link.
			return {};
		}
		return { layers: { wanted: wanted.spatialLayer, received: received ?? null, ...(sent === undefined ? {} : { sent }) } };
	}
}

/** The highest layer the publisher sends, from its streams' scores (0: the node does not receive it); -1: none. */
function sentLayer(producerScores: number[] | undefined): number | undefined {
	if (!producerScores || producerScores.length < 2) {
		return undefined;
	}
	let highest = -1;
	producerScores.forEach((score, layer) => {
		highest = score > 0 ? layer : highest;
	});
	return highest;
}
