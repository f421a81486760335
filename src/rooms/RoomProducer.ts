import type { ms } from '../media';
import type { PipeLease, RoomRouter } from './RoomRouter';
import type { ProducerAppData } from './types';

/** What a peer's client is told of a producer (wire.ts's producerInfo), wherever it lives. */
export type ProducerView = {
	readonly id: string;
	readonly kind: ms.MediaKind;
	readonly appData: ProducerAppData;
	readonly paused: boolean;
};

/**
 * A producer the room offers its peers: one of a peer on this node (on one
 * of the room's routers), or one of a peer on another node of a fleet
 * (RemoteProducer, piped here over the network). Subscriptions and the
 * speaker watcher use it the same way: `lease` brings it to the router they
 * need it on.
 */
export interface RoomProducer extends ProducerView {
	readonly closed: boolean;
	/**
	 * Makes the producer consumable on `target`, piping it there (from another
	 * worker, or another node) on first use; release the lease when done.
	 */
	lease(target: RoomRouter): PipeLease;
}

/** A producer of a peer on this node, living on `source`. */
export function localProducer(producer: ms.Producer<ProducerAppData>, source: RoomRouter): RoomProducer {
	return {
		id: producer.id,
		kind: producer.kind,
		appData: producer.appData,
		get paused() {
			return producer.paused;
		},
		get closed() {
			return producer.closed;
		},
		lease: (target) => target.lease(producer, source),
	};
}
