/**
 * A subscriber's connection quality for one consumer: good, fair or poor,
 * from the consumer's score and from whether the layer it receives is below
 * the one its tile calls for. Pure: the room feeds it what mediasoup reports
 * and what the layer policy decided (src/rooms/QualityWatcher.ts).
 */

export type Quality = 'good' | 'fair' | 'poor';

/** At or above `good` (with the layer wanted): good; below `poor`: poor. mediasoup's scores run 0-10. */
export const QUALITY_SCORES = { good: 7, poor: 4 } as const;

export type QualityInput = {
	/** The consumer's score (mediasoup's 0-10 for the stream as the subscriber gets it). */
	score: number;
	/**
	 * The layers to compare; undefined when they say nothing (audio, a stream
	 * without simulcast, a video nobody should be receiving now: hidden, or its
	 * producer paused).
	 */
	layers?: {
		/** The spatial layer the tile calls for: the policy's choice before fitting the downlink or its estimate. */
		wanted: number;
		/** The spatial layer received now; null when none is (mediasoup's layerschange to nothing). */
		received: number | null;
		/** The highest layer the publisher sends now (its stream scores): a layer it does not send is no fault of this link. */
		sent?: number;
		/** The policy paused the video to fit the subscriber's downlink. */
		pausedToFit?: boolean;
	};
};

/**
 * good: score at least 7 and the layer wanted (or the highest sent) received;
 * poor: score below 4, the video paused to fit the downlink, nothing received,
 * or two layers or more below; else fair. A score that is not a number counts
 * as poor.
 */
export function qualityOf({ score, layers }: QualityInput): Quality {
	if (!(score >= QUALITY_SCORES.poor)) {
		return 'poor';
	}
	let below = 0;
	if (layers) {
		if (layers.pausedToFit || layers.received === null) {
			return 'poor';
		}
		const wanted = Math.min(layers.wanted, layers.sent ?? Infinity);
		below = wanted - layers.received;
		if (!(below < 2)) {
			return 'poor';
		}
	}
	return score >= QUALITY_SCORES.good && below <= 0 ? 'good' : 'fair';
}
