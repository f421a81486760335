import type { Logger } from '../logging';
import type { ms } from '../media';
import { TypedEmitter } from '../util';
import type { Lease } from './lease';
import type { RoomProducer } from './RoomProducer';
import type { RoomRouter } from './RoomRouter';
import type { ProducerAppData } from './types';

export type SpeakerEvents = {
	/** The dominant speaker changed (mediasoup's dominantspeaker). */
	speaker: [peerId: string, producerId: string];
};

/**
 * The room's active speaker: one ActiveSpeakerObserver, on one of the room's
 * routers, watching every audio producer of the room (piped there when it
 * lives on another router). When that router is lost the room starts the
 * watcher again on another.
 */
export class SpeakerWatcher {
	readonly events: TypedEmitter<SpeakerEvents>;
	readonly #intervalMs: number;
	readonly #logger: Logger;
	#current: { router: RoomRouter; observer: ms.ActiveSpeakerObserver } | undefined;
	/** The pipe into the observer's router of each watched producer. */
	readonly #pipes = new Map<string, Lease>();
	#peerId: string | null = null;

	constructor(options: { intervalMs: number; logger: Logger }) {
		this.#intervalMs = options.intervalMs;
		this.#logger = options.logger;
		this.events = new TypedEmitter((event, error) => this.#logger.error('speaker listener failed', { event, error }));
	}

	/** The router the observer runs on; undefined while there is none. */
	get router(): RoomRouter | undefined {
		return this.#current?.router;
	}

	/** The peer speaking now, if any. */
	get peerId(): string | null {
		return this.#peerId;
	}

	/** Nobody speaks any more (the speaker left). */
	clear(): void {
		this.#peerId = null;
	}

	/**
	 * Starts the observer on `router` and watches `producers` there. NOTE:
	 * never throws: when every worker dies at once, the next router's worker
	 * is dead too; the room then has no observer until its next router.
	 */
	async start(router: RoomRouter, producers: () => Iterable<RoomProducer>): Promise<void> {
		let observer: ms.ActiveSpeakerObserver;
		try {
			observer = await router.router.createActiveSpeakerObserver({ interval: this.#intervalMs });
		} catch (error) {
			this.#logger.warn('speaker observer not started', { worker: router.worker.index, error: (error as Error).message });
			return;
		}
		this.#current = { router, observer };
		observer.on('dominantspeaker', ({ producer }) => {
			this.#peerId = (producer.appData as ProducerAppData).peerId;
			this.events.safeEmit('speaker', this.#peerId, producer.id);
		});
		for (const producer of producers()) {
			void this.watch(producer);
		}
	}

	/** The observer's router was lost: its pipes went with it. */
	lost(): void {
		this.#current = undefined;
		this.#pipes.clear();
	}

	/** Adds an audio producer to the observer, piping it there if needed. */
	async watch(producer: RoomProducer): Promise<void> {
		const current = this.#current;
		if (!current || producer.kind !== 'audio') {
			return;
		}
		const pipe = producer.lease(current.router);
		this.#pipes.get(producer.id)?.release();
		this.#pipes.set(producer.id, pipe);
		try {
			await pipe.ready;
			await current.observer.addProducer({ producerId: producer.id });
		} catch (error) {
			this.#logger.debug('speaker observer skipped a producer', { producerId: producer.id, error: (error as Error).message });
		}
	}

	/** Gives back the pipe of a producer that closed. */
	forget(producerId: string): void {
		this.#pipes.get(producerId)?.release();
		this.#pipes.delete(producerId);
	}
}
