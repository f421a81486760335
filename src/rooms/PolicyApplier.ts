import type { PolicyConfig } from '../config';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { TypedEmitter } from '../util';
import { decideSubscriber, neededEncodings, publisherCap, type ConsumerDecision, type ConsumerInput, type PolicyTable } from '../policy';
import type { ConsumerAppData, Peer } from './Peer';

type Tile = { height: number; visible: boolean; pinned?: boolean };
type Downlink = { estimate?: number; cap?: number; used?: number };

/** A bandwidth estimate that moved less than this (relative) since the last pass does not start another. */
const DOWNLINK_HYSTERESIS = 0.2;

/** The policy table (src/policy) of the config's `policy` section. */
export function policyTable(config: PolicyConfig): PolicyTable {
	return {
		thumbnailMaxHeight: config.thumbnailMaxHeight,
		mediumMaxHeight: config.mediumMaxHeight,
		maxLayerByRoomSize: [[2, 2], [config.midLayerFromPeers, 1], [config.lowLayerFromPeers, 0]],
		layerBitrates: config.layerBitrates,
		audioBitrate: config.audioBitrate,
		publisherCapByRoomSize: config.publisherCapFromPeers.map((peers, i) => [peers, config.publisherCapBitrates[i]!]),
	};
}

/** Spatial layers of a consumer's stream, from its scalability mode (L3T3 -> 3). */
function spatialLayers(consumer: ms.Consumer): number {
	const mode = consumer.rtpParameters.encodings?.[0]?.scalabilityMode;
	const match = mode ? /^S?L(\d+)/.exec(mode) : null;
	return consumer.type === 'simulcast' || consumer.type === 'svc' ? Number(match?.[1] ?? 1) : 1;
}

/**
 * Applies the bitrate and simulcast policy (src/policy) to a room: when an
 * input changes (a peer joins or leaves, the speaker changes, a tile is
 * resized, hidden or pinned, a subscriber's bandwidth moves) it decides every
 * subscriber's consumers again and applies what changed: preferred layers,
 * priority, pausing what nobody sees, each publisher's bitrate cap; and tells
 * publishers which encodings anybody needs (dynacast).
 *
 * Storms are held back three ways: passes are coalesced (at most one per
 * `policy.intervalMs`), a bandwidth estimate must move by a fifth to count,
 * and the layers taken from one producer change at most once per
 * `policy.layerSwitchIntervalMs` (each change costs the publisher a key
 * frame); a change that must wait is made by a later pass.
 *
 * With `policy.enabled` false every consumer gets the top layer and nothing is
 * paused, capped or stopped: what a naive SFU does, kept for comparison.
 */
export type PolicyEvents = {
	/** The layers of a consumer changed (`deferred`: a change that had to wait for the key-frame spacing). */
	layerSwitch: [deferred: boolean];
	/** A publisher was told which encodings to send. */
	encodings: [];
};

export class PolicyApplier {
	/** What the policy does, for metrics. */
	readonly observer: TypedEmitter<PolicyEvents>;
	readonly #peers: () => Iterable<Peer>;
	readonly #speaker: () => string | null;
	readonly #logger: Logger;
	readonly #config: PolicyConfig;
	readonly #table: PolicyTable;
	readonly #maxIncomingBitrate: number;
	readonly #now: () => number;
	readonly #tiles = new Map<string, Tile>();
	/** Consumers whose score fell below policy.lowScore and has not climbed back to policy.recoverScore. */
	readonly #degraded = new Set<string>();
	/** The highest layers a client asked for itself (consumer.setPreferredLayers): the policy never goes above. */
	readonly #clientMax = new Map<string, { spatialLayer: number; temporalLayer?: number }>();
	readonly #downlinks = new Map<string, Downlink>();
	/** Consumers the policy paused (and so may resume); a client's own pause is left alone. */
	readonly #paused = new Set<string>();
	readonly #applied = new Map<string, ConsumerDecision>();
	readonly #encodings = new Map<string, string>();
	readonly #publisherCaps = new Map<string, number>();
	/** When the layers taken from each producer last changed. */
	readonly #layerSwitchAt = new Map<string, number>();
	#timer: NodeJS.Timeout | undefined;
	#running = false;
	#again = false;

	constructor(options: {
		peers: () => Iterable<Peer>;
		activeSpeaker: () => string | null;
		config: PolicyConfig;
		/** media.maxIncomingBitrate: no publisher cap goes above it. */
		maxIncomingBitrate: number;
		logger: Logger;
		now?: () => number;
	}) {
		this.#peers = options.peers;
		this.#speaker = options.activeSpeaker;
		this.#logger = options.logger;
		this.#config = options.config;
		this.#table = policyTable(options.config);
		this.#maxIncomingBitrate = options.maxIncomingBitrate;
		this.#now = options.now ?? Date.now;
		this.observer = new TypedEmitter((event, error) => this.#logger.error('policy listener failed', { event, error }));
	}

	setViewport(consumerId: string, viewport: { height: number; visible: boolean }): void {
		const tile = this.#tiles.get(consumerId);
		this.#tiles.set(consumerId, { ...tile, height: viewport.height, visible: viewport.visible });
		this.schedule();
	}

	setPinned(consumerId: string, pinned: boolean): void {
		const tile = this.#tiles.get(consumerId) ?? { height: 10_000, visible: true };
		this.#tiles.set(consumerId, { ...tile, pinned });
		this.schedule();
	}

	/**
	 * A consumer's score (mediasoup's 0-10 for the stream as the subscriber
	 * gets it). Below `policy.lowScore` the consumer gets one layer less until
	 * the score is back at `policy.recoverScore`: the gap keeps a borderline
	 * link from flapping between layers.
	 */
	setScore(consumerId: string, score: number): void {
		if (score < this.#config.lowScore && !this.#degraded.has(consumerId)) {
			this.#degraded.add(consumerId);
			this.schedule();
		} else if (score >= this.#config.recoverScore && this.#degraded.delete(consumerId)) {
			this.schedule();
		}
	}

	/** The client's own ceiling for a consumer's layers. */
	setClientMax(consumerId: string, layers: { spatialLayer: number; temporalLayer?: number }): void {
		this.#clientMax.set(consumerId, layers);
		this.schedule();
	}

	/**
	 * The bandwidth estimate of a peer's receive transport (mediasoup's bwe
	 * trace). It counts only while below what the transport wants to send: a
	 * link that carries everything asked of it says nothing about how much
	 * more it could carry (the streams are what limit it), and the policy's
	 * nominal layer bitrates are upper bounds, not what a layer really costs.
	 */
	setDownlinkEstimate(peerId: string, availableBps: number, desiredBps: number): void {
		const downlink = this.#downlink(peerId);
		downlink.estimate = availableBps < desiredBps ? availableBps : undefined;
		const used = downlink.used ?? this.#config.maxDownlinkBitrate;
		if (Math.abs(this.#budget(downlink) - used) > used * DOWNLINK_HYSTERESIS) {
			this.schedule();
		}
	}

	/** The most the node may send a peer (its receive transport's max outgoing bitrate). */
	setDownlinkCap(peerId: string, bps: number): void {
		this.#downlink(peerId).cap = bps;
		this.schedule();
	}

	forget(consumerId: string): void {
		this.#tiles.delete(consumerId);
		this.#clientMax.delete(consumerId);
		this.#degraded.delete(consumerId);
		this.#paused.delete(consumerId);
		this.#applied.delete(consumerId);
	}

	/** Consumers paused by the policy now (hidden tiles, downlinks too small). */
	get pausedCount(): number {
		return this.#paused.size;
	}

	forgetPeer(peerId: string): void {
		this.#downlinks.delete(peerId);
	}

	forgetProducer(producerId: string): void {
		this.#encodings.delete(producerId);
		this.#layerSwitchAt.delete(producerId);
	}

	/** Asks for a pass soon; passes asked for meanwhile collapse into one. */
	schedule(delayMs = this.#config.intervalMs): void {
		if (this.#running) {
			this.#again = true;
			return;
		}
		this.#timer ??= setTimeout(() => {
			this.#timer = undefined;
			void this.#apply();
		}, Math.max(delayMs, this.#config.intervalMs)).unref();
	}

	close(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#downlink(peerId: string): Downlink {
		let downlink = this.#downlinks.get(peerId);
		if (!downlink) {
			downlink = {};
			this.#downlinks.set(peerId, downlink);
		}
		return downlink;
	}

	#budget(downlink: Downlink): number {
		return Math.min(this.#config.maxDownlinkBitrate, downlink.cap ?? Infinity, downlink.estimate ?? Infinity);
	}

	/** The policy's downlink inputs: the hard limit (config and cap) and, below it, the estimate. */
	#downlinkInputs(downlink: Downlink): { downlinkBps: number; estimatedDownlinkBps?: number } {
		const downlinkBps = Math.min(this.#config.maxDownlinkBitrate, downlink.cap ?? Infinity);
		return downlink.estimate !== undefined && downlink.estimate < downlinkBps ? { downlinkBps, estimatedDownlinkBps: downlink.estimate } : { downlinkBps };
	}

	async #apply(): Promise<void> {
		this.#running = true;
		const now = this.#now();
		/** The earliest a deferred layer switch may be made, if any was deferred. */
		let retryAt: number | undefined;
		try {
			const peers = [...this.#peers()];
			const subscribers: { consumers: ConsumerInput[]; decisions: Map<string, ConsumerDecision> }[] = [];
			const switched = new Set<string>();
			for (const peer of peers) {
				const consumers = [...peer.consumers.values()].filter((c) => !c.closed && !peer.pendingConsumers.has(c.id));
				const inputs: ConsumerInput[] = consumers.map((consumer) => ({
					id: consumer.id,
					kind: consumer.kind,
					source: consumer.appData.source,
					producerId: consumer.producerId,
					producerPeerId: consumer.appData.producerPeerId,
					spatialLayers: spatialLayers(consumer),
					tile: this.#tiles.get(consumer.id),
					degraded: this.#degraded.has(consumer.id),
				}));
				const downlink = this.#downlink(peer.id);
				downlink.used = this.#budget(downlink);
				const input = { roomSize: peers.length, activeSpeakerPeerId: this.#speaker(), consumers: inputs };
				const decisions = this.#config.enabled ? decideSubscriber({ ...input, ...this.#downlinkInputs(downlink) }, this.#table) : topLayers(inputs);
				// NOTE: dynacast follows what the subscriber would take with no
				// bandwidth limit. Stopping the layers a congested downlink cannot
				// carry now would also stop mediasoup probing for more (its desired
				// bitrate follows the producer's streams), and the estimate would
				// never climb back.
				// NOTE: nor one subscriber's bad reception: it is that subscriber's alone.
				const wanted = this.#config.enabled
					? decideSubscriber({ ...input, consumers: inputs.map((c) => ({ ...c, degraded: false })) }, this.#table)
					: decisions;
				for (const consumer of consumers) {
					const ceiling = this.#clientMax.get(consumer.id);
					const decision = ceiling ? underCeiling(decisions.get(consumer.id)!, ceiling) : decisions.get(consumer.id)!;
					// NOTE: preferredLayers is what the consumer has now, whoever set it
					// (mediasoup starts a consumer at the top); only simulcast has any.
					const current = consumer.preferredLayers;
					const switching = current !== undefined && current.spatialLayer !== decision.spatialLayer;
					const waitUntil = (this.#layerSwitchAt.get(consumer.producerId) ?? -Infinity) + this.#config.layerSwitchIntervalMs;
					if (switching && now < waitUntil && !switched.has(consumer.producerId)) {
						// Too soon after the last switch of this producer's layers: keep
						// the layers for now; dynacast keeps both encodings meanwhile.
						retryAt = Math.min(retryAt ?? Infinity, waitUntil);
						this.observer.safeEmit('layerSwitch', true);
						const held = wanted.get(consumer.id)!;
						wanted.set(consumer.id, { ...held, spatialLayer: Math.max(current.spatialLayer, held.spatialLayer) });
						await this.#applyOne(consumer, { ...decision, spatialLayer: current.spatialLayer, temporalLayer: current.temporalLayer ?? decision.temporalLayer });
						continue;
					}
					if (switching) {
						this.#layerSwitchAt.set(consumer.producerId, now);
						switched.add(consumer.producerId);
						this.observer.safeEmit('layerSwitch', false);
					}
					await this.#applyOne(consumer, decision);
				}
				subscribers.push({ consumers: inputs, decisions: wanted });
			}
			if (this.#config.enabled) {
				await this.#applyPublisherCaps(peers);
				this.#dynacast(peers, subscribers);
			}
		} catch (error) {
			this.#logger.debug('policy pass failed', { error: (error as Error).message });
		} finally {
			this.#running = false;
			if (this.#again) {
				this.#again = false;
				this.schedule();
			} else if (retryAt !== undefined) {
				this.schedule(retryAt - this.#now());
			}
		}
	}

	/** Each publisher's send transport may carry at most the cap of the room's size. */
	async #applyPublisherCaps(peers: Peer[]): Promise<void> {
		const cap = Math.min(this.#maxIncomingBitrate, publisherCap(peers.length, this.#table));
		for (const peer of peers) {
			for (const transport of peer.transports.values()) {
				if (transport.appData.direction !== 'send' || transport.closed || this.#publisherCaps.get(transport.id) === cap) {
					continue;
				}
				if (!this.#publisherCaps.has(transport.id)) {
					// NOTE: WebRTC and plain transports' observers differ; 'close' is common to both.
					(transport.observer as ms.Transport['observer']).once('close', () => this.#publisherCaps.delete(transport.id));
				}
				this.#publisherCaps.set(transport.id, cap);
				await transport.setMaxIncomingBitrate(cap).catch(() => undefined);
			}
		}
	}

	/** Tells each simulcast publisher which encodings anybody needs, when that changes. */
	#dynacast(peers: Peer[], subscribers: { consumers: ConsumerInput[]; decisions: Map<string, ConsumerDecision> }[]): void {
		const producers = peers.flatMap((peer) => [...peer.producers.values()]
			.filter((p) => p.kind === 'video' && (p.rtpParameters.encodings?.length ?? 1) > 1)
			.map((p) => ({ producer: p, peer })));
		const needed = neededEncodings(producers.map(({ producer }) => ({ id: producer.id, spatialLayers: producer.rtpParameters.encodings!.length })), subscribers);
		for (const { producer, peer } of producers) {
			const active = needed.get(producer.id)!;
			const key = active.join(',');
			if (this.#encodings.get(producer.id) !== key) {
				this.#encodings.set(producer.id, key);
				peer.notify('producer.encodings', { producerId: producer.id, active });
				this.observer.safeEmit('encodings');
			}
		}
	}

	async #applyOne(consumer: ms.Consumer<ConsumerAppData>, decision: ConsumerDecision): Promise<void> {
		const last = this.#applied.get(consumer.id);
		try {
			if (decision.paused && !consumer.paused) {
				await consumer.pause();
				this.#paused.add(consumer.id);
			} else if (!decision.paused && this.#paused.has(consumer.id)) {
				this.#paused.delete(consumer.id);
				await consumer.resume();
			}
			if (consumer.type === 'simulcast' && (last?.spatialLayer !== decision.spatialLayer || last?.temporalLayer !== decision.temporalLayer)) {
				await consumer.setPreferredLayers({ spatialLayer: decision.spatialLayer, temporalLayer: decision.temporalLayer });
			}
			if (last?.priority !== decision.priority) {
				await consumer.setPriority(decision.priority);
			}
			this.#applied.set(consumer.id, decision);
		} catch {
			// The consumer closed meanwhile.
		}
	}
}

/** The policy off: every video at its top layer, nothing paused, equal priority. */
function topLayers(consumers: ConsumerInput[]): Map<string, ConsumerDecision> {
	return new Map(consumers.map((c) => [c.id, { paused: false, spatialLayer: Math.max(0, c.spatialLayers - 1), temporalLayer: 2, priority: 1 }]));
}

function underCeiling(decision: ConsumerDecision, ceiling: { spatialLayer: number; temporalLayer?: number }): ConsumerDecision {
	return {
		...decision,
		spatialLayer: Math.min(decision.spatialLayer, ceiling.spatialLayer),
		temporalLayer: Math.min(decision.temporalLayer, ceiling.temporalLayer ?? Infinity),
	};
}
