import type { ms } from '../media';
import type { RoomProducer } from './RoomProducer';
import type { PipeLease, RoomRouter } from './RoomRouter';
import type { ProducerAppData } from './types';

/** What a room's part on another node says of one of its producers (roomPart.ts). */
export type RemoteProducerInfo = {
	id: string;
	kind: ms.MediaKind;
	source: ProducerAppData['source'];
	paused: boolean;
	/** The router it lives on, on its node: where its pipes start. */
	routerId: string;
	/** Its simulcast encodings (1 without simulcast). */
	encodings: number;
};

/** How a remote producer reaches a router here (NodePipes). */
export type RemotePiping = {
	lease(target: RoomRouter, producer: RemoteProducer): PipeLease;
	setPaused(producerId: string, paused: boolean): void;
};

/**
 * A producer of a peer of the room on another node. Its state is what that
 * node's part of the room last said (RoomSpan.ts); leasing it on a router
 * here pipes it from its node (NodePipes.ts).
 */
export class RemoteProducer implements RoomProducer {
	readonly id: string;
	readonly kind: ms.MediaKind;
	readonly appData: ProducerAppData;
	readonly roomId: string;
	readonly nodeId: string;
	readonly routerId: string;
	readonly encodings: number;
	readonly #piping: RemotePiping;
	#paused: boolean;
	#closed = false;

	constructor(info: RemoteProducerInfo, where: { roomId: string; nodeId: string; peerId: string }, piping: RemotePiping) {
		this.id = info.id;
		this.kind = info.kind;
		this.appData = { peerId: where.peerId, source: info.source };
		this.roomId = where.roomId;
		this.nodeId = where.nodeId;
		this.routerId = info.routerId;
		this.encodings = info.encodings;
		this.#paused = info.paused;
		this.#piping = piping;
	}

	get paused(): boolean {
		return this.#paused;
	}

	get closed(): boolean {
		return this.#closed;
	}

	lease(target: RoomRouter): PipeLease {
		return this.#piping.lease(target, this);
	}

	/** Its node says it paused or resumed. */
	setPaused(paused: boolean): void {
		if (paused !== this.#paused && !this.#closed) {
			this.#paused = paused;
			this.#piping.setPaused(this.id, paused);
		}
	}

	/** Its node says it closed (or the node is gone): the room closes its consumers and gives back its pipes. */
	close(): void {
		this.#closed = true;
	}
}
