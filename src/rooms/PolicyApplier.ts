import type { PolicyConfig } from '../config';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { decideSubscriber, neededEncodings, publisherCap, type ConsumerDecision, type ConsumerInput, type PolicyTable } from '../policy';
import type { PeerNotice } from './PeerLink';
import { budget, downlinkInputs, policyTable, spatialLayers, topLayers, underCeiling, type Downlink } from './policyInputs';
import type { ConsumerAppData, PeerTransport, ProducerAppData } from './types';

/** A bandwidth estimate that moved less than this (relative) since the last pass does not start another. */
const DOWNLINK_HYSTERESIS = 0.2;

type Tile = { height: number; visible: boolean; pinned?: boolean };
type Layers = { spatialLayer: number; temporalLayer?: number };
/** The policy's inputs and its last decision for one consumer. */
type ConsumerState = {
	tile?: Tile;
	/** The highest layers the client asked for itself (consumer.setPreferredLayers): the policy never goes above. */
	clientMax?: Layers;
	/** Its score fell below policy.lowScore and has not climbed back to policy.recoverScore. */
	degraded: boolean;
	/** The policy paused it (and so may resume it); a client's own pause is left alone. */
	paused: boolean;
	applied?: ConsumerDecision;
	decided?: DecisionListener;
};
/** Told each pass what the tile calls for (before fitting the downlink and its estimate) and what was decided. */
export type DecisionListener = (wanted: ConsumerDecision, decided: ConsumerDecision) => void;

/** What the policy reads of a peer. */
export type PolicyPeer = {
	readonly id: string;
	readonly transports: ReadonlyMap<string, PeerTransport>;
	readonly producers: ReadonlyMap<string, ms.Producer<ProducerAppData>>;
	/** Its consumers the client acknowledged: offered ones still unanswered are left alone. */
	acknowledgedConsumers(): ms.Consumer<ConsumerAppData>[];
	notify(notice: PeerNotice): void;
};

/**
 * A consumer's inputs to the policy, held by the consumer's owner; release()
 * forgets them (the consumer closed). Idempotent.
 */
export type ConsumerPolicy = {
	setViewport(viewport: { height: number; visible: boolean }): void;
	setPinned(pinned: boolean): void;
	/** The client's own ceiling for the consumer's layers. */
	setClientMax(layers: Layers): void;
	/**
	 * The consumer's score (mediasoup's 0-10 for the stream as the subscriber
	 * gets it). Below `policy.lowScore` the consumer gets one layer less until
	 * the score is back at `policy.recoverScore`: the gap keeps a borderline
	 * link from flapping between layers.
	 */
	setScore(score: number): void;
	release(): void;
};

export type PolicyEvents = {
	/** The layers of a consumer changed (`deferred`: a change that had to wait for the key-frame spacing). */
	layerSwitch: [deferred: boolean];
	/** A publisher was told which encodings to send. */
	encodings: [];
};

/** The other nodes of a room that spans nodes, for dynacast (RoomExchange.ts). */
export type PolicyElsewhere = {
	/** The producers of the peers on other nodes (their layers are chosen here, their encodings there). */
	producers(): { id: string; spatialLayers: number }[];
	/** What the other nodes need of a producer here: an array of encodings a node. */
	needed(producerId: string): boolean[][];
	/** What this node's subscribers need of the others' producers, at each pass. */
	report(needed: Map<string, boolean[]>): void;
};

/** Where the applier reports what it does, for metrics (the room's observer). */
export type PolicyReport = { safeEmit<K extends keyof PolicyEvents>(event: K, ...args: PolicyEvents[K]): void };

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
export class PolicyApplier {
	readonly #observer: PolicyReport;
	readonly #peers: () => Iterable<PolicyPeer>;
	readonly #roomSize: () => number;
	readonly #elsewhere: PolicyElsewhere | undefined;
	readonly #speaker: () => string | null;
	readonly #logger: Logger;
	readonly #config: PolicyConfig;
	readonly #table: PolicyTable;
	readonly #maxIncomingBitrate: number;
	readonly #now: () => number;
	/** Each tracked consumer's state, by consumer id. */
	readonly #consumers = new Map<string, ConsumerState>();
	readonly #downlinks = new Map<string, Downlink>();
	readonly #encodings = new Map<string, string>();
	readonly #publisherCaps = new Map<string, number>();
	/** When the layers taken from each producer last changed. */
	readonly #layerSwitchAt = new Map<string, number>();
	#timer: NodeJS.Timeout | undefined;
	#running = false;
	#again = false;

	constructor(options: {
		peers: () => Iterable<PolicyPeer>;
		/** Its peers on every node (the peers here by default). */
		roomSize?: () => number;
		elsewhere?: PolicyElsewhere;
		activeSpeaker: () => string | null;
		config: PolicyConfig;
		/** media.maxIncomingBitrate: no publisher cap goes above it. */
		maxIncomingBitrate: number;
		logger: Logger;
		observer: PolicyReport;
		now?: () => number;
	}) {
		this.#peers = options.peers;
		this.#roomSize = options.roomSize ?? (() => [...options.peers()].length);
		this.#elsewhere = options.elsewhere;
		this.#speaker = options.activeSpeaker;
		this.#logger = options.logger;
		this.#config = options.config;
		this.#table = policyTable(options.config);
		this.#maxIncomingBitrate = options.maxIncomingBitrate;
		this.#now = options.now ?? Date.now;
		this.#observer = options.observer;
	}

	/** Starts tracking a consumer's inputs (`decided`: told each pass's decision); the handle's release() forgets them. */
	track(consumerId: string, decided?: DecisionListener): ConsumerPolicy {
		const state: ConsumerState = { degraded: false, paused: false, decided };
		this.#consumers.set(consumerId, state);
		return {
			setViewport: (viewport) => {
				state.tile = { ...state.tile, height: viewport.height, visible: viewport.visible };
				this.schedule();
			},
			setPinned: (pinned) => {
				state.tile = { ...state.tile ?? { height: 10_000, visible: true }, pinned };
				this.schedule();
			},
			setClientMax: (layers) => {
				state.clientMax = layers;
				this.schedule();
			},
			setScore: (score) => {
				if (score < this.#config.lowScore && !state.degraded) {
					state.degraded = true;
					this.schedule();
				} else if (score >= this.#config.recoverScore && state.degraded) {
					state.degraded = false;
					this.schedule();
				}
			},
			release: () => {
				if (this.#consumers.get(consumerId) === state) {
					this.#consumers.delete(consumerId);
					this.schedule();
				}
			},
		};
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
		if (Math.abs(budget(this.#config.maxDownlinkBitrate, downlink) - used) > used * DOWNLINK_HYSTERESIS) {
			this.schedule();
		}
	}

	/** The most the node may send a peer (its receive transport's max outgoing bitrate). */
	setDownlinkCap(peerId: string, bps: number): void {
		this.#downlink(peerId).cap = bps;
		this.schedule();
	}

	/** Consumers paused by the policy now (hidden tiles, downlinks too small). */
	get pausedCount(): number {
		let count = 0;
		for (const state of this.#consumers.values()) {
			count += state.paused ? 1 : 0;
		}
		return count;
	}

	/** Forgets a peer's downlink (the peer closed). */
	forgetPeer(peerId: string): void {
		this.#downlinks.delete(peerId);
	}

	/** Forgets what the publisher was told of a producer's encodings (the producer closed). */
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
				const consumers = peer.acknowledgedConsumers();
				const inputs: ConsumerInput[] = consumers.map((consumer) => ({
					id: consumer.id,
					kind: consumer.kind,
					source: consumer.appData.source,
					producerId: consumer.producerId,
					producerPeerId: consumer.appData.producerPeerId,
					spatialLayers: spatialLayers(consumer),
					tile: this.#state(consumer).tile,
					degraded: this.#state(consumer).degraded,
				}));
				const downlink = this.#downlink(peer.id);
				downlink.used = budget(this.#config.maxDownlinkBitrate, downlink);
				const input = { roomSize: this.#roomSize(), activeSpeakerPeerId: this.#speaker(), consumers: inputs };
				const decisions = this.#config.enabled ? decideSubscriber({ ...input, ...downlinkInputs(this.#config.maxDownlinkBitrate, downlink) }, this.#table) : topLayers(inputs);
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
					const ceiling = this.#state(consumer).clientMax;
					const decision = ceiling ? underCeiling(decisions.get(consumer.id)!, ceiling) : decisions.get(consumer.id)!;
					this.#state(consumer).decided?.(ceiling ? underCeiling(wanted.get(consumer.id)!, ceiling) : wanted.get(consumer.id)!, decision);
					// NOTE: preferredLayers is what the consumer has now, whoever set it
					// (mediasoup starts a consumer at the top); only simulcast has any.
					const current = consumer.preferredLayers;
					const switching = current !== undefined && current.spatialLayer !== decision.spatialLayer;
					const waitUntil = (this.#layerSwitchAt.get(consumer.producerId) ?? -Infinity) + this.#config.layerSwitchIntervalMs;
					if (switching && now < waitUntil && !switched.has(consumer.producerId)) {
						// Too soon after the last switch of this producer's layers: keep
						// the layers for now; dynacast keeps both encodings meanwhile.
						retryAt = Math.min(retryAt ?? Infinity, waitUntil);
						this.#observer.safeEmit('layerSwitch', true);
						const held = wanted.get(consumer.id)!;
						wanted.set(consumer.id, { ...held, spatialLayer: Math.max(current.spatialLayer, held.spatialLayer) });
						await this.#applyOne(consumer, { ...decision, spatialLayer: current.spatialLayer, temporalLayer: current.temporalLayer ?? decision.temporalLayer });
						continue;
					}
					if (switching) {
						this.#layerSwitchAt.set(consumer.producerId, now);
						switched.add(consumer.producerId);
						this.#observer.safeEmit('layerSwitch', false);
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
	async #applyPublisherCaps(peers: PolicyPeer[]): Promise<void> {
		const cap = Math.min(this.#maxIncomingBitrate, publisherCap(this.#roomSize(), this.#table));
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

	/** Tells each simulcast publisher which encodings anybody needs (here, and on the room's other nodes), when that changes. */
	#dynacast(peers: PolicyPeer[], subscribers: { consumers: ConsumerInput[]; decisions: Map<string, ConsumerDecision> }[]): void {
		const producers = peers.flatMap((peer) => [...peer.producers.values()]
			.filter((p) => p.kind === 'video' && (p.rtpParameters.encodings?.length ?? 1) > 1)
			.map((p) => ({ producer: p, peer })));
		const remote = this.#elsewhere?.producers() ?? [];
		const needed = neededEncodings([...producers.map(({ producer }) => ({ id: producer.id, spatialLayers: producer.rtpParameters.encodings!.length })), ...remote], subscribers);
		this.#elsewhere?.report(new Map(remote.map(({ id }) => [id, needed.get(id)!])));
		for (const { producer, peer } of producers) {
			const active = (this.#elsewhere?.needed(producer.id) ?? []).reduce((all, other) => all.map((on, i) => on || (other[i] ?? false)), needed.get(producer.id)!);
			const key = active.join(',');
			if (this.#encodings.get(producer.id) !== key) {
				this.#encodings.set(producer.id, key);
				peer.notify({ type: 'producerEncodings', producerId: producer.id, active });
				this.#observer.safeEmit('encodings');
			}
		}
	}

	/**
	 * A tracked consumer's state. NOTE: one that closed during a pass gets a
	 * fresh state nobody keeps: what the pass writes there is dropped with it.
	 */
	#state(consumer: ms.Consumer): ConsumerState {
		return this.#consumers.get(consumer.id) ?? { degraded: false, paused: false };
	}

	async #applyOne(consumer: ms.Consumer<ConsumerAppData>, decision: ConsumerDecision): Promise<void> {
		const state = this.#state(consumer);
		const last = state.applied;
		try {
			if (decision.paused && !consumer.paused) {
				await consumer.pause();
				state.paused = true;
			} else if (!decision.paused && state.paused) {
				state.paused = false;
				await consumer.resume();
			}
			if (consumer.type === 'simulcast' && (last?.spatialLayer !== decision.spatialLayer || last?.temporalLayer !== decision.temporalLayer)) {
				await consumer.setPreferredLayers({ spatialLayer: decision.spatialLayer, temporalLayer: decision.temporalLayer });
			}
			if (last?.priority !== decision.priority) {
				await consumer.setPriority(decision.priority);
			}
			state.applied = decision;
		} catch {
			// The consumer closed meanwhile.
		}
	}
}
