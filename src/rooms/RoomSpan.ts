import { RemoteProducer, type RemotePiping } from './RemoteProducer';
import type { Room } from './Room';
import type { RemotePeerView, RoomElsewhere } from './RoomExchange';
import type { RoomPart, RoomPartPeer } from './roomPart';

/** A peer of the room on another node, as that node's last part said. */
type RemotePeer = Omit<RemotePeerView, 'producers' | 'handRaised'> & { handRaised: boolean; readonly producers: Map<string, RemoteProducer> };
/** What this node knows of another node's part: its last `seq`, its peers, its needs. */
type KnownPart = { seq: number; peers: Map<string, RemotePeer>; needs: Record<string, boolean[]> };

const HANDLE = /^[a-z0-9_]{3,30}$/;

/**
 * A room that spans nodes, as this node sees it: the room's peers here (the
 * Room) and the parts of the room on the other nodes, by node run. A part
 * that arrives is compared with the last one of its run: the peers and
 * producers it adds are announced and offered to the peers here (through
 * the room's exchange), those it no longer lists leave or are withdrawn, a
 * producer's pause follows, and so do the speaker (the home's part says
 * it) and what the other nodes need of the producers here (dynacast).
 * FleetSpans.ts moves the parts between nodes.
 */
export class RoomSpan implements RoomElsewhere {
	readonly room: Room;
	readonly #piping: RemotePiping;
	readonly #parts = new Map<string, KnownPart>();

	constructor(room: Room, piping: RemotePiping) {
		this.room = room;
		this.#piping = piping;
		room.span(this);
	}

	get size(): number {
		let size = 0;
		for (const part of this.#parts.values()) {
			size += part.peers.size;
		}
		return size;
	}

	*peers(): Generator<RemotePeer> {
		for (const part of this.#parts.values()) {
			yield* part.peers.values();
		}
	}

	neededElsewhere(producerId: string): boolean[][] {
		return [...this.#parts.values()].flatMap((part) => (part.needs[producerId] ? [part.needs[producerId]] : []));
	}

	/** The runs of the nodes this span has a part of. */
	runs(): string[] {
		return [...this.#parts.keys()];
	}

	/** This node's part of the room now, numbered `seq`. */
	part(node: string, run: string, seq: number): RoomPart {
		const { room } = this;
		const peers = [...room.peers.values()].filter((peer) => !peer.closed).map((peer) => ({
			id: peer.id,
			displayName: peer.displayName.slice(0, 64),
			...(peer.handle && HANDLE.test(peer.handle) ? { handle: peer.handle } : {}),
			...(peer.verified ? { verified: true as const } : {}),
			// NOTE: only when set: a node from before issue 24 (a strict schema) still reads the parts of plain rooms.
			...(peer.e2ee ? { e2ee: true } : {}),
			...(peer.identity ? { identity: { deviceId: peer.identity.deviceId, key: peer.identity.key } } : {}),
			...(peer.handRaised ? { handRaised: true as const } : {}),
			producers: [...peer.producers.values()].flatMap((producer) => {
				const router = peer.routerOfProducer(producer.id);
				return router ? [{
					id: producer.id,
					kind: producer.kind,
					source: producer.appData.source,
					paused: producer.paused,
					routerId: router.router.id,
					encodings: producer.rtpParameters.encodings?.length ?? 1,
				}] : [];
			}),
		}));
		return {
			v: 1, node, run, seq, peers,
			...(room.home ? { speaker: room.speaker } : {}),
			needs: Object.fromEntries(room.exchange.neededHere),
		};
	}

	/** Another node's part of the room, newer than what this node knew of it (older ones are ignored). */
	apply(part: RoomPart): void {
		const known = this.#parts.get(part.run);
		if (this.room.closed || (known && part.seq <= known.seq)) {
			return;
		}
		const entry = known ?? { seq: part.seq, peers: new Map(), needs: {} };
		entry.seq = part.seq;
		this.#parts.set(part.run, entry);
		const listed = new Set(part.peers.map((peer) => peer.id));
		for (const peer of [...entry.peers.values()]) {
			if (!listed.has(peer.id)) {
				this.#leave(entry, peer);
			}
		}
		for (const info of part.peers) {
			this.#update(entry, info, part.node);
		}
		const needsChanged = JSON.stringify(entry.needs) !== JSON.stringify(part.needs);
		entry.needs = part.needs;
		if (needsChanged) {
			this.room.exchange.neededElsewhereChanged();
		}
		if (part.speaker !== undefined) {
			this.room.setSpeaker(part.speaker);
		}
	}

	/** A node's part is gone (its room closed there, or the node is gone): its peers leave. */
	drop(run: string): void {
		const entry = this.#parts.get(run);
		if (!entry) {
			return;
		}
		this.#parts.delete(run);
		for (const peer of [...entry.peers.values()]) {
			this.#leave(entry, peer);
		}
		if (Object.keys(entry.needs).length > 0) {
			this.room.exchange.neededElsewhereChanged();
		}
	}

	#update(entry: KnownPart, info: RoomPartPeer, nodeId: string): void {
		const { exchange } = this.room;
		let peer = entry.peers.get(info.id);
		if (!peer) {
			peer = {
				id: info.id, displayName: info.displayName, handle: info.handle, verified: info.verified ?? false, e2ee: info.e2ee ?? false, identity: info.identity,
				handRaised: info.handRaised ?? false, producers: new Map(),
			};
			entry.peers.set(peer.id, peer);
			exchange.remoteJoined(peer);
		}
		// NOTE: kept for the peers who join here later; those here were told (peer.hand reaches every node).
		peer.handRaised = info.handRaised ?? false;
		const listed = new Set(info.producers.map((p) => p.id));
		for (const producer of [...peer.producers.values()]) {
			if (!listed.has(producer.id)) {
				peer.producers.delete(producer.id);
				producer.close();
				exchange.withdraw(producer.id);
			}
		}
		for (const p of info.producers) {
			const existing = peer.producers.get(p.id);
			if (existing) {
				existing.setPaused(p.paused);
				continue;
			}
			const producer = new RemoteProducer(p, { roomId: this.room.id, nodeId, peerId: peer.id }, this.#piping);
			peer.producers.set(p.id, producer);
			exchange.offer(producer);
		}
	}

	#leave(entry: KnownPart, peer: RemotePeer): void {
		entry.peers.delete(peer.id);
		for (const producer of peer.producers.values()) {
			producer.close();
			this.room.exchange.withdraw(producer.id);
		}
		peer.producers.clear();
		this.room.exchange.remoteLeft(peer.id);
	}
}
