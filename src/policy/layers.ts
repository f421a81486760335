/**
 * The bitrate and simulcast policy: which layer each subscriber receives of
 * each video, what is paused, what has priority, and which encodings a
 * publisher needs to send at all. Pure functions over data: no mediasoup, no
 * clock; the room applies the decisions (setPreferredLayers, setPriority,
 * pause / resume, producer.encodings).
 */

export type PolicyTable = {
	/** A tile at most this many CSS pixels high gets the low layer (0); at most `mediumMaxHeight` the middle (1); larger the top (2). */
	thumbnailMaxHeight: number;
	mediumMaxHeight: number;
	/** The highest spatial layer for non-speaker, unpinned video by room size: [[minPeers, layer], ...] ascending. */
	maxLayerByRoomSize: [minPeers: number, layer: number][];
	/** Bits per second each simulcast layer costs, low to high, and one audio stream. */
	layerBitrates: number[];
	audioBitrate: number;
	/** Per publisher: the most it may send, by room size: [[minPeers, bps], ...] ascending. */
	publisherCapByRoomSize: [minPeers: number, bps: number][];
};

export const DEFAULT_POLICY: PolicyTable = {
	thumbnailMaxHeight: 200,
	mediumMaxHeight: 400,
	maxLayerByRoomSize: [[2, 2], [5, 1], [10, 0]],
	layerBitrates: [150_000, 500_000, 1_500_000],
	audioBitrate: 40_000,
	publisherCapByRoomSize: [[2, 2_500_000], [5, 1_500_000], [10, 900_000], [25, 600_000]],
};

export type ConsumerInput = {
	id: string;
	kind: 'audio' | 'video';
	source: 'mic' | 'camera' | 'screen' | 'screenAudio';
	producerId: string;
	producerPeerId: string;
	/** Spatial layers the producer sends (1 without simulcast). */
	spatialLayers: number;
	/** How the subscriber shows it; unknown until the client reports (shown large by default). */
	tile?: { height: number; visible: boolean; pinned?: boolean };
	/** The subscriber receives it badly (its consumer score fell low): one layer less than it would get. */
	degraded?: boolean;
};

export type SubscriberInput = {
	roomSize: number;
	activeSpeakerPeerId: string | null;
	/** The most the node may send this subscriber (bits/s); undefined: unconstrained. Video steps down, then pauses, to fit. */
	downlinkBps?: number;
	/**
	 * What the bandwidth estimate says the downlink carries now (bits/s).
	 * Video steps down to fit but is never paused for it: a paused consumer
	 * stops the probing that would let the estimate climb back.
	 */
	estimatedDownlinkBps?: number;
	consumers: ConsumerInput[];
};

export type ConsumerDecision = {
	paused: boolean;
	spatialLayer: number;
	temporalLayer: number;
	/** mediasoup consumer priority, 1-255: more bandwidth goes to higher priorities. */
	priority: number;
};

const PRIORITY = { audio: 255, speaker: 200, pinned: 180, screen: 160, video: 100 } as const;

function stepFor(table: [number, number][], roomSize: number): number {
	let value = table[0]![1];
	for (const [minPeers, v] of table) {
		if (roomSize >= minPeers) {
			value = v;
		}
	}
	return value;
}

/** The layer a tile of this height calls for. */
export function layerForHeight(height: number, table: PolicyTable = DEFAULT_POLICY): number {
	return height <= table.thumbnailMaxHeight ? 0 : height <= table.mediumMaxHeight ? 1 : 2;
}

/** What a publisher may send in a room of this size. */
export function publisherCap(roomSize: number, table: PolicyTable = DEFAULT_POLICY): number {
	return stepFor(table.publisherCapByRoomSize, roomSize);
}

/**
 * Decides every consumer of one subscriber. Audio is never paused and always
 * first. Video: a hidden tile is paused; a visible one gets the layer its size
 * calls for, capped by room size unless it is the active speaker, pinned or a
 * screen share (which favours resolution), and one layer lower while the
 * subscriber receives it badly (`degraded`). When the subscriber's downlink
 * cannot carry it all, video steps down, lowest priority first: lower layers,
 * then pausing non-speaker video; audio never loses anything.
 */
export function decideSubscriber(input: SubscriberInput, table: PolicyTable = DEFAULT_POLICY): Map<string, ConsumerDecision> {
	const decisions = new Map<string, ConsumerDecision>();
	const roomCap = stepFor(table.maxLayerByRoomSize, input.roomSize);
	for (const consumer of input.consumers) {
		if (consumer.kind === 'audio') {
			decisions.set(consumer.id, { paused: false, spatialLayer: 0, temporalLayer: 0, priority: PRIORITY.audio });
			continue;
		}
		const top = Math.max(0, consumer.spatialLayers - 1);
		const speaker = consumer.producerPeerId === input.activeSpeakerPeerId;
		const pinned = consumer.tile?.pinned === true;
		const screen = consumer.source === 'screen';
		const visible = consumer.tile?.visible ?? true;
		const wanted = consumer.tile ? layerForHeight(consumer.tile.height, table) : top;
		const cap = speaker || pinned || screen ? top : Math.min(top, roomCap);
		const layer = screen ? top : Math.min(wanted, cap);
		decisions.set(consumer.id, {
			paused: !visible,
			spatialLayer: consumer.degraded ? Math.max(0, layer - 1) : layer,
			// Screen share: full resolution, and frame rate is what gives first.
			temporalLayer: 2,
			priority: speaker ? PRIORITY.speaker : pinned ? PRIORITY.pinned : screen ? PRIORITY.screen : PRIORITY.video,
		});
	}
	if (input.downlinkBps !== undefined) {
		fitDownlink(input, decisions, table, input.downlinkBps, { pause: true });
	}
	if (input.estimatedDownlinkBps !== undefined) {
		fitDownlink(input, decisions, table, input.estimatedDownlinkBps, { pause: false });
	}
	return decisions;
}

/** Bits per second the decisions cost. */
export function estimateBitrate(input: SubscriberInput, decisions: Map<string, ConsumerDecision>, table: PolicyTable = DEFAULT_POLICY): number {
	let total = 0;
	for (const consumer of input.consumers) {
		const decision = decisions.get(consumer.id)!;
		if (decision.paused) {
			continue;
		}
		total += consumer.kind === 'audio' ? table.audioBitrate : table.layerBitrates[decision.spatialLayer] ?? table.layerBitrates.at(-1)!;
	}
	return total;
}

function fitDownlink(input: SubscriberInput, decisions: Map<string, ConsumerDecision>, table: PolicyTable, budget: number, { pause }: { pause: boolean }): void {
	const videos = input.consumers.filter((c) => c.kind === 'video' && !decisions.get(c.id)!.paused)
		.sort((a, b) => decisions.get(a.id)!.priority - decisions.get(b.id)!.priority);
	// Lower layers first, lowest priority first, one step at a time.
	let stepped = true;
	while (estimateBitrate(input, decisions, table) > budget && stepped) {
		stepped = false;
		for (const video of videos) {
			const decision = decisions.get(video.id)!;
			if (!decision.paused && decision.spatialLayer > 0) {
				decision.spatialLayer--;
				if (video.source === 'screen') {
					decision.temporalLayer = 0;
				}
				stepped = true;
				break;
			}
		}
	}
	if (!pause) {
		return;
	}
	// Then pause non-speaker video, lowest priority first; the speaker goes last.
	for (const video of videos) {
		if (estimateBitrate(input, decisions, table) <= budget) {
			return;
		}
		const decision = decisions.get(video.id)!;
		if (decision.priority < PRIORITY.speaker) {
			decision.paused = true;
		}
	}
	for (const video of videos) {
		if (estimateBitrate(input, decisions, table) <= budget) {
			return;
		}
		decisions.get(video.id)!.paused = true;
	}
}

/**
 * Dynacast: which simulcast encodings each publisher should send. An encoding
 * above the highest layer any subscriber receives stops at the publisher
 * (encodings[i].active = false); the ones below it keep going, as LiveKit
 * does: they cost little, and they are what a subscriber falls back to at
 * once when its downlink shrinks, and what a new consumer starts on while the
 * bandwidth estimate ramps up. With nobody receiving at all, only the lowest
 * stays on, so a new viewer starts at once.
 */
export function neededEncodings(
	producers: { id: string; spatialLayers: number }[],
	subscribers: { consumers: ConsumerInput[]; decisions: Map<string, ConsumerDecision> }[],
): Map<string, boolean[]> {
	const highest = new Map(producers.map((p) => [p.id, 0]));
	for (const { consumers, decisions } of subscribers) {
		for (const consumer of consumers) {
			const decision = decisions.get(consumer.id);
			const top = highest.get(consumer.producerId);
			if (decision && top !== undefined && !decision.paused && consumer.kind === 'video') {
				highest.set(consumer.producerId, Math.max(top, decision.spatialLayer));
			}
		}
	}
	return new Map(producers.map((p) => [p.id, Array.from({ length: p.spatialLayers }, (_, i) => i <= highest.get(p.id)!)]));
}
