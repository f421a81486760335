import type { Logger } from '../logging';
import type { ms } from '../media';
import { decideSubscriber, neededEncodings, type ConsumerDecision, type ConsumerInput } from '../policy';
import type { Peer, ProducerAppData } from './Peer';

type Tile = { height: number; visible: boolean; pinned?: boolean };

/** Spatial layers of a consumer's stream, from its scalability mode (L3T3 -> 3). */
function spatialLayers(consumer: ms.Consumer): number {
	const mode = consumer.rtpParameters.encodings?.[0]?.scalabilityMode;
	const match = mode ? /^S?L(\d+)/.exec(mode) : null;
	return consumer.type === 'simulcast' || consumer.type === 'svc' ? Number(match?.[1] ?? 1) : 1;
}

/**
 * Applies the bitrate and simulcast policy (src/policy) to a room: when an
 * input changes (a peer joins or leaves, the speaker changes, a tile is
 * resized, hidden or pinned) it decides every subscriber's consumers again
 * and applies what changed: preferred layers, priority, pausing what nobody
 * sees; and tells publishers which encodings anybody needs (dynacast).
 * Changes are coalesced: at most one pass per `intervalMs`.
 */
export class PolicyApplier {
	readonly #peers: () => Iterable<Peer>;
	readonly #speaker: () => string | null;
	readonly #logger: Logger;
	readonly #intervalMs: number;
	readonly #tiles = new Map<string, Tile>();
	/** Consumers the policy paused (and so may resume); a client's own pause is left alone. */
	readonly #paused = new Set<string>();
	readonly #applied = new Map<string, ConsumerDecision>();
	readonly #encodings = new Map<string, string>();
	#timer: NodeJS.Timeout | undefined;
	#running = false;
	#again = false;

	constructor(options: { peers: () => Iterable<Peer>; activeSpeaker: () => string | null; logger: Logger; intervalMs?: number }) {
		this.#peers = options.peers;
		this.#speaker = options.activeSpeaker;
		this.#logger = options.logger;
		this.#intervalMs = options.intervalMs ?? 200;
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

	forget(consumerId: string): void {
		this.#tiles.delete(consumerId);
		this.#paused.delete(consumerId);
		this.#applied.delete(consumerId);
	}

	/** Asks for a pass soon; passes asked for meanwhile collapse into one. */
	schedule(): void {
		if (this.#running) {
			this.#again = true;
			return;
		}
		this.#timer ??= setTimeout(() => {
			this.#timer = undefined;
			void this.#apply();
		}, this.#intervalMs).unref();
	}

	close(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	async #apply(): Promise<void> {
		this.#running = true;
		try {
			const peers = [...this.#peers()];
			const subscribers: { consumers: ConsumerInput[]; decisions: Map<string, ConsumerDecision> }[] = [];
			const roomSize = peers.length;
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
				}));
				const decisions = decideSubscriber({ roomSize, activeSpeakerPeerId: this.#speaker(), consumers: inputs });
				subscribers.push({ consumers: inputs, decisions });
				for (const consumer of consumers) {
					await this.#applyOne(consumer, decisions.get(consumer.id)!);
				}
			}
			const producers = peers.flatMap((peer) => [...peer.producers.values()]
				.filter((p) => p.kind === 'video' && (p.rtpParameters.encodings?.length ?? 1) > 1)
				.map((p) => ({ producer: p, peer })));
			const needed = neededEncodings(producers.map(({ producer }) => ({ id: producer.id, spatialLayers: producer.rtpParameters.encodings!.length })), subscribers);
			for (const { producer, peer } of producers) {
				const active = needed.get(producer.id)!;
				// With nobody receiving it at all, keep the lowest encoding: a new viewer starts at once.
				if (!active.some(Boolean)) {
					active[0] = true;
				}
				const key = active.join(',');
				if (this.#encodings.get(producer.id) !== key) {
					this.#encodings.set(producer.id, key);
					peer.notify('producer.encodings', { producerId: producer.id, active });
				}
			}
		} catch (error) {
			this.#logger.debug('policy pass failed', { error: (error as Error).message });
		} finally {
			this.#running = false;
			if (this.#again) {
				this.#again = false;
				this.schedule();
			}
		}
	}

	async #applyOne(consumer: ms.Consumer<{ peerId: string; producerPeerId: string; source: ProducerAppData['source'] }>, decision: ConsumerDecision): Promise<void> {
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
