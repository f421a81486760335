import type { Logger } from '../logging';
import type { ms } from '../media';
import { TypedEmitter } from '../util';
import type { Lease } from './lease';
import type { RoomProducer } from './RoomProducer';
import type { RoomRouter } from './RoomRouter';
import type { ProducerAppData } from './types';

/** Who speaks: a peer, and its audio producer. */
export type Speaker = { peerId: string; producerId: string };

export type SpeakerEvents = {
	/** The dominant speaker changed (mediasoup's dominantspeaker, or the home node said); null: nobody speaks now. */
	speaker: [speaker: Speaker | null];
};

/**
 * The room's active speaker: one ActiveSpeakerObserver, on one of the room's
 * routers, watching every audio producer of the room (piped there when it
 * lives on another router, or on another node). When that router is lost the
 * room starts the watcher again on another. In a room that spans nodes it
 * runs on the room's home node only; the others are told the speaker (set()).
 */
export class SpeakerWatcher {
	readonly events: TypedEmitter<SpeakerEvents>;
	readonly #intervalMs: number;
	readonly #logger: Logger;
	#current: { router: RoomRouter; observer: ms.ActiveSpeakerObserver } | undefined;
	/** The pipe into the observer's router of each watched producer. */
	readonly #pipes = new Map<string, Lease>();
	#speaker: Speaker | null = null;

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
		return this.#speaker?.peerId ?? null;
	}

	get speaker(): Speaker | null {
		return this.#speaker;
	}

	/** A peer left: if it was the speaker, nobody speaks now. */
	left(peerId: string): void {
		if (this.#speaker?.peerId === peerId) {
			this.#speaker = null;
			this.events.safeEmit('speaker', null);
		}
	}

	/** The speaker as the room's home node says, where the observer does not run. */
	set(speaker: Speaker | null): void {
		if (!this.#current && (speaker?.producerId ?? null) !== (this.#speaker?.producerId ?? null)) {
			this.#speaker = speaker;
			this.events.safeEmit('speaker', speaker);
		}
	}

	/** Stops the observer (another node became the room's home) and gives back its pipes. */
	stop(): void {
		this.#current?.observer.close();
		this.#current = undefined;
		for (const pipe of this.#pipes.values()) {
			pipe.release();
		}
		this.#pipes.clear();
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
		this.#logger.debug('speaker observer started', { worker: router.worker.index });
		observer.on('dominantspeaker', ({ producer }) => {
			this.#speaker = { peerId: (producer.appData as ProducerAppData).peerId, producerId: producer.id };
			this.events.safeEmit('speaker', this.#speaker);
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
