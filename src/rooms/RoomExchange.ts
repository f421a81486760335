import type { ms } from '../media';
import type { Peer } from './Peer';
import type { PeerNotice, PeerView } from './PeerLink';
import type { PolicyApplier, PolicyElsewhere } from './PolicyApplier';
import { localProducer, type RoomProducer } from './RoomProducer';
import type { SpeakerWatcher } from './SpeakerWatcher';
import type { ProducerAppData } from './types';

/** A producer of a peer on another node of a fleet, with its simulcast encodings. */
export type RemoteRoomProducer = RoomProducer & { readonly encodings: number };

/** A peer of the room on another node of a fleet. */
export type RemotePeerView = Omit<PeerView, 'producers'> & { readonly producers: ReadonlyMap<string, RemoteRoomProducer> };

/** The room's peers on the other nodes it spans (RoomSpan.ts): what the room reads of them. */
export interface RoomElsewhere {
	readonly size: number;
	peers(): Iterable<RemotePeerView>;
	/** The encodings the other nodes' subscribers need of a producer here (dynacast), an array a node. */
	neededElsewhere(producerId: string): boolean[][];
}

export type RoomExchangeDeps = {
	/** The room's peers here. */
	peers: () => Iterable<Peer>;
	speaker: SpeakerWatcher;
	policy: () => PolicyApplier;
	/** Tells every peer here. */
	broadcast: (notice: PeerNotice) => void;
	/** What this node's part of the room says changed (the layers it needs of the others' producers, a raised hand). */
	changed: () => void;
};

/**
 * What crosses a room's peers: every producer offered to every other peer
 * (and to the speaker watcher), here and, in a fleet, on the other nodes the
 * room spans; the consumers of a producer closed with it; the peers on other
 * nodes announced to the peers here, and what this node's subscribers need
 * of their producers (dynacast) reported back.
 */
export class RoomExchange {
	readonly #deps: RoomExchangeDeps;
	#elsewhere: RoomElsewhere | undefined;
	/** What this node's subscribers need of the other nodes' producers, by producer id. */
	#neededHere = new Map<string, boolean[]>();

	constructor(deps: RoomExchangeDeps) {
		this.#deps = deps;
	}

	/** The room spans nodes: these are its peers on the others. */
	span(elsewhere: RoomElsewhere): void {
		this.#elsewhere = elsewhere;
	}

	/** Peers of the room on other nodes. */
	get remoteSize(): number {
		return this.#elsewhere?.size ?? 0;
	}

	/** The room's peers on every node, as the others see them. */
	*everyone(): Generator<PeerView> {
		yield* this.#deps.peers();
		yield* this.#elsewhere?.peers() ?? [];
	}

	/** A producer (of a peer here or on another node), offered to every other peer here and to the speaker watcher. */
	offer(producer: RoomProducer): void {
		void this.#deps.speaker.watch(producer);
		for (const peer of this.#deps.peers()) {
			if (peer.id !== producer.appData.peerId) {
				void peer.subscriptions.subscribe(producer);
			}
		}
		this.#deps.policy().schedule();
	}

	/** A producer closed (here or on another node): its consumers here close, and the speaker watcher forgets it. */
	withdraw(producerId: string): void {
		for (const peer of this.#deps.peers()) {
			peer.subscriptions.unsubscribe(producerId);
		}
		this.#deps.speaker.forget(producerId);
	}

	/** One of the producers of its peers here. */
	localProducer(producerId: string): ms.Producer<ProducerAppData> | undefined {
		return [...this.#deps.peers()].find((peer) => peer.producers.has(producerId))?.producers.get(producerId);
	}

	/** Subscribes `peer` to every producer of the others it does not consume yet. */
	consumeAll(peer: Peer): void {
		const consumed = peer.subscriptions.producerIds();
		for (const producer of this.producers()) {
			if (producer.appData.peerId !== peer.id && !consumed.has(producer.id)) {
				void peer.subscriptions.subscribe(producer);
			}
		}
	}

	/**
	 * Offers every peer here the other nodes' producers it has no consumer of
	 * (its pipe failed, or was lost), but those its client refused: a fleet's
	 * heal runs this at every heartbeat.
	 */
	reofferRemote(): void {
		for (const peer of this.#deps.peers()) {
			const consumed = peer.subscriptions.producerIds();
			for (const producer of this.#remoteProducers()) {
				if (!consumed.has(producer.id) && !peer.subscriptions.refused(producer.id)) {
					void peer.subscriptions.subscribe(producer);
				}
			}
		}
	}

	/** Every producer of the room, of its peers here and on other nodes. */
	*producers(): Generator<RoomProducer> {
		for (const peer of this.#deps.peers()) {
			for (const producer of peer.producers.values()) {
				const source = peer.routerOfProducer(producer.id);
				if (source) {
					yield localProducer(producer, source);
				}
			}
		}
		yield* this.#remoteProducers();
	}

	/** A peer joined on another node: the peers here are told. */
	remoteJoined(peer: RemotePeerView): void {
		this.#deps.broadcast({ type: 'peerJoined', peer });
		this.#deps.policy().schedule();
	}

	/** A peer on another node left (or its node is gone), after its producers were withdrawn. */
	remoteLeft(peerId: string): void {
		this.#deps.broadcast({ type: 'peerLeft', peerId });
		this.#deps.speaker.left(peerId);
		this.#deps.policy().schedule();
	}

	/**
	 * A peer here raised or lowered its hand: the others were told (peer.hand,
	 * on every node), and this node's part says it for peers who join later on
	 * another node.
	 */
	handChanged(): void {
		this.#deps.changed();
	}

	/** What other nodes need of the producers here changed: dynacast follows. */
	neededElsewhereChanged(): void {
		this.#deps.policy().schedule();
	}

	/** What this node's subscribers need of the other nodes' producers (dynacast), by producer id. */
	get neededHere(): ReadonlyMap<string, boolean[]> {
		return this.#neededHere;
	}

	/** The policy's view of the other nodes (PolicyApplier's `elsewhere`). */
	readonly policyElsewhere: PolicyElsewhere = {
		producers: () => [...this.#remoteProducers()].filter((p) => p.kind === 'video' && p.encodings > 1).map((p) => ({ id: p.id, spatialLayers: p.encodings })),
		needed: (producerId) => this.#elsewhere?.neededElsewhere(producerId) ?? [],
		report: (needed) => {
			const key = (map: ReadonlyMap<string, boolean[]>) => JSON.stringify([...map].sort(([a], [b]) => a.localeCompare(b)));
			if (key(needed) !== key(this.#neededHere)) {
				this.#neededHere = needed;
				this.#deps.changed();
			}
		},
	};

	*#remoteProducers(): Generator<RemoteRoomProducer> {
		for (const peer of this.#elsewhere?.peers() ?? []) {
			yield* peer.producers.values();
		}
	}
}
