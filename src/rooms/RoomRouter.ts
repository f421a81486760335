import type { Logger } from '../logging';
import { MEDIA_CODECS, type MediaWorker, type ms } from '../media';
import { newLease, sharedLease, type Lease, type PipeLease, type Shared } from './lease';

export type { PipeLease } from './lease';

type PipePair = { local: ms.PipeTransport; remote: ms.PipeTransport; producers: number };
type PipedProducer = Shared;

const LOCAL: PipeLease = { ready: Promise.resolve(), release: () => undefined };

/**
 * One router of a room, on one worker. A room spans several when it outgrows
 * a core. A producer published on one router reaches peers on another through
 * a pipe: a PipeTransport pair between the two routers, a pipe consumer on the
 * source and a pipe producer (same id) on the target.
 *
 * What it carries is handed out as leases: a peer's seat, a consumer's count,
 * a producer's pipe. Pipes are reference counted: the pipe producer closes
 * with its last lease, the transport pair with its last pipe.
 */
export class RoomRouter {
	readonly worker: MediaWorker;
	readonly router: ms.Router;

	readonly #logger: Logger;
	/** Pipe transport pairs from other routers into this one, by source router id. */
	readonly #pipePairs = new Map<string, Promise<PipePair>>();
	/** Producers of other routers piped into this one, by producer id. */
	readonly #piped = new Map<string, PipedProducer>();
	#peers = 0;
	#consumers = 0;

	private constructor(worker: MediaWorker, router: ms.Router, logger: Logger) {
		this.worker = worker;
		this.router = router;
		this.#logger = logger;
	}

	static async create(worker: MediaWorker, roomId: string, logger: Logger): Promise<RoomRouter> {
		const router = await worker.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { roomId } });
		return new RoomRouter(worker, router, logger.child({ routerId: router.id, worker: worker.index }));
	}

	get closed(): boolean {
		return this.router.closed;
	}

	/** Peers of the room seated on this router. */
	get peers(): number {
		return this.#peers;
	}

	/** Consumers on this router's transports. */
	get consumers(): number {
		return this.#consumers;
	}

	/** Pipe producers that other routers' producers have here now. */
	get pipedProducers(): number {
		return this.#piped.size;
	}

	/** A peer's place on this router, held until the peer leaves it. */
	seat(): Lease {
		this.#peers++;
		return newLease(() => this.#peers--);
	}

	/** Counts a consumer created on this router, until it closes. */
	countConsumer(): Lease {
		this.#consumers++;
		return newLease(() => this.#consumers--);
	}

	/**
	 * Makes `producer` (living on `source`) consumable on this router, piping
	 * it on first use. The lease is held from now on, also while `ready` is
	 * pending; `ready` rejects when the pipe fails (release the lease then too).
	 */
	lease(producer: ms.Producer, source: RoomRouter): PipeLease {
		if (source === this) {
			return LOCAL;
		}
		let piped = this.#piped.get(producer.id);
		if (!piped) {
			piped = this.#pipe(producer, source);
			this.#piped.set(producer.id, piped);
		}
		return sharedLease(piped);
	}

	close(): void {
		this.router.close();
	}

	/**
	 * Pipes `producer` from `source` into this router, as mediasoup's
	 * Router.pipeToRouter does: a pipe consumer there, a pipe producer (same
	 * id) here, over the pair of PipeTransports between the two routers.
	 */
	#pipe(producer: ms.Producer, source: RoomRouter): PipedProducer {
		let pipeConsumer: ms.Consumer | undefined;
		let pipeProducer: ms.Producer | undefined;
		let pair: PipePair | undefined;
		let closed = false;
		const entry: PipedProducer = {
			users: 0,
			ready: Promise.resolve(),
			close: () => {
				if (closed) {
					return;
				}
				closed = true;
				if (this.#piped.get(producer.id) === entry) {
					this.#piped.delete(producer.id);
				}
				pipeConsumer?.close();
				pipeProducer?.close();
				if (pair && --pair.producers === 0) {
					// The last pipe between the two routers: close the pair too.
					pair.local.close();
				}
			},
		};
		entry.ready = (async () => {
			try {
				pair = await this.#pipePair(source);
				if (pair.local.closed) {
					// Its last pipe closed it while this one waited for it: make another.
					pair = await this.#pipePair(source);
				}
				pair.producers++;
				pipeConsumer = await pair.local.consume({ producerId: producer.id });
				pipeProducer = await pair.remote.produce({
					id: producer.id,
					kind: pipeConsumer.kind,
					rtpParameters: pipeConsumer.rtpParameters,
					paused: pipeConsumer.producerPaused,
					appData: producer.appData,
				});
				if (closed || producer.closed) {
					throw new Error('the producer closed while being piped');
				}
				const consumerSide = pipeConsumer;
				const producerSide = pipeProducer;
				consumerSide.observer.on('pause', () => void producerSide.pause().catch(() => undefined));
				consumerSide.observer.on('resume', () => void producerSide.resume().catch(() => undefined));
				consumerSide.observer.once('close', () => entry.close());
				producerSide.observer.once('close', () => entry.close());
				// NOTE: a pause or resume during the pipe producer's round trip reached
				// the pipe consumer before the listeners above existed: sync the pipe
				// producer now, as mediasoup's Router.pipeToRouter does (after the
				// listeners here, so that a change during this sync is not lost either).
				if (producerSide.paused !== producer.paused) {
					await (producer.paused ? producerSide.pause() : producerSide.resume());
				}
				this.#logger.debug('producer piped', { producerId: producer.id, from: source.router.id });
			} catch (error) {
				entry.close();
				throw error;
			}
		})();
		// NOTE: lease holders see the error; this keeps it from being unhandled.
		entry.ready.catch(() => undefined);
		return entry;
	}

	/** The PipeTransport pair from `source` into this router, made on first use. */
	#pipePair(source: RoomRouter): Promise<PipePair> {
		let pair = this.#pipePairs.get(source.router.id);
		if (!pair) {
			pair = (async () => {
				const [local, remote] = await Promise.all([
					source.router.createPipeTransport({ listenIp: '127.0.0.1' }),
					this.router.createPipeTransport({ listenIp: '127.0.0.1' }),
				]);
				try {
					await Promise.all([
						local.connect({ ip: remote.tuple.localIp, port: remote.tuple.localPort }),
						remote.connect({ ip: local.tuple.localIp, port: local.tuple.localPort }),
					]);
				} catch (error) {
					local.close();
					remote.close();
					throw error;
				}
				const forget = () => {
					local.close();
					remote.close();
					if (this.#pipePairs.get(source.router.id) === pair) {
						this.#pipePairs.delete(source.router.id);
					}
				};
				local.observer.once('close', forget);
				remote.observer.once('close', forget);
				return { local, remote, producers: 0 };
			})();
			this.#pipePairs.set(source.router.id, pair);
			pair.catch(() => this.#pipePairs.delete(source.router.id));
		}
		return pair;
	}
}
