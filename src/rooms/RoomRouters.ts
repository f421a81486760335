import { InvalidStateError } from '../errors';
import type { Logger } from '../logging';
import type { MediaWorker, WorkerPool } from '../media';
import { SerialQueue } from '../util';
import type { Peer } from './Peer';
import { choosePlacement, shouldRetire } from './placement';
import type { RoomProducer } from './RoomProducer';
import { RoomRouter } from './RoomRouter';
import type { SpeakerWatcher } from './SpeakerWatcher';

export type RoomRoutersOptions = {
	roomId: string;
	pool: WorkerPool;
	/** rooms.routerConsumerLimit */
	consumerLimit: number;
	speaker: SpeakerWatcher;
	/** The room's peers, those being placed included. */
	peers: () => Iterable<Peer>;
	/** Every producer of the room, here or on other nodes: what the speaker watcher watches. */
	producers: () => Iterable<RoomProducer>;
	/** Whether the speaker watcher runs here (a room spanning nodes runs it on its home node). */
	speakerHere: () => boolean;
	/** A router was lost with its worker; its peers were asked to reconnect. */
	onLost: (worker: MediaWorker, peers: number) => void;
	/** The room's logger. */
	logger: Logger;
};

/**
 * A room's routers: one per worker it uses. Seats joining peers (pure
 * choice in placement.ts), closes a router its last peer left, and when a
 * router is lost with its worker, unseats its peers and asks them to
 * reconnect. The speaker watcher runs on one of them.
 */
export class RoomRouters {
	readonly #options: RoomRoutersOptions;
	readonly #logger: Logger;
	readonly #routers = new Set<RoomRouter>();
	/** Placement creates routers: one at a time, so two joins cannot make two. */
	readonly #placement = new SerialQueue();
	/** Routers the room closes itself; any other router closing was lost with its worker. */
	readonly #retiring = new WeakSet<RoomRouter>();
	#closed = false;

	constructor(options: RoomRoutersOptions) {
		this.#options = options;
		this.#logger = options.logger;
	}

	/** The live routers. */
	get all(): RoomRouter[] {
		return [...this.#routers];
	}

	/** The room's first router, on the pool's least-loaded worker. */
	first(): Promise<RoomRouter> {
		return this.#add(this.#options.pool.pickWorker());
	}

	/** The peer's router; a peer whose router was lost with its worker gets a new one. */
	async of(peer: Peer): Promise<RoomRouter> {
		return peer.router ?? await this.place(peer);
	}

	/** Seats the peer on the router placement chooses, made first if need be. */
	place(peer: Peer): Promise<RoomRouter> {
		return this.#placement.run(async () => {
			this.#assertOpen();
			const { pool } = this.#options;
			// Every worker restarting (they all died): wait a little for one.
			await pool.waitForWorker(5000);
			const choice = choosePlacement(this.#routers, pool.workers.map((w) => w.index), this.#options.consumerLimit);
			const chosen = 'use' in choice ? choice.use : await this.#add(pool.pickWorker({ exclude: choice.newRouterExcept }));
			if (peer.closed) {
				throw new InvalidStateError('the peer left');
			}
			peer.place(chosen);
			return chosen;
		});
	}

	/** Takes the peer's seat back; a router left with no peer closes, and its pipes with it. */
	unplace(peer: Peer): void {
		const router = peer.unplace();
		if (router && shouldRetire(router, { speakerRouter: this.#options.speaker.router, routers: this.#routers.size })) {
			this.#retiring.add(router);
			router.close();
		}
	}

	/** Closes every router (the room closed). */
	close(): void {
		this.#closed = true;
		for (const router of this.#routers) {
			router.close();
		}
		this.#routers.clear();
	}

	#assertOpen(): void {
		if (this.#closed) {
			throw new InvalidStateError('the room is closed');
		}
	}

	async #add(worker: MediaWorker): Promise<RoomRouter> {
		const { roomId, speaker } = this.#options;
		const roomRouter = await RoomRouter.create(worker, roomId, this.#logger);
		this.#routers.add(roomRouter);
		roomRouter.router.observer.once('close', () => this.#onClosed(roomRouter));
		if (this.#routers.size > 1) {
			this.#logger.info('room spans another worker', { worker: worker.index, routers: this.#routers.size });
		}
		await this.startSpeaker();
		return roomRouter;
	}

	/** Starts the speaker watcher on a router of the room, unless it runs already or not here. */
	async startSpeaker(): Promise<void> {
		const { speaker, speakerHere, producers } = this.#options;
		const router = [...this.#routers][0];
		if (!speaker.router && router && speakerHere()) {
			await speaker.start(router, producers);
		}
	}

	/**
	 * A router closed. When the room did not close it, its worker died: its
	 * peers lost their transports, producers and consumers. They stay in the
	 * room, are asked to reconnect, and get a router elsewhere on their next
	 * transport.create; the others keep their media.
	 */
	#onClosed(roomRouter: RoomRouter): void {
		this.#routers.delete(roomRouter);
		if (this.#closed || this.#retiring.has(roomRouter)) {
			this.#logger.debug('router closed', { worker: roomRouter.worker.index, routers: this.#routers.size });
			return;
		}
		const affected = [...this.#options.peers()].filter((peer) => peer.router === roomRouter);
		for (const peer of affected) {
			this.unplace(peer);
			peer.notify({ type: 'reconnect', reason: 'workerDied' });
		}
		this.#logger.warn('room lost a router', { worker: roomRouter.worker.index, peers: affected.length });
		this.#options.onLost(roomRouter.worker, affected.length);
		if (this.#options.speaker.router === roomRouter) {
			this.#options.speaker.lost();
			void this.startSpeaker();
		}
	}
}
