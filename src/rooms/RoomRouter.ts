import type { Logger } from '../logging';
import { MEDIA_CODECS, type MediaWorker, type ms } from '../media';

type PipePair = { local: ms.PipeTransport; remote: ms.PipeTransport; producers: number };
type PipedProducer = { ready: Promise<void>; users: number; close: () => void };

/**
 * One router of a room, on one worker. A room spans several when it outgrows
 * a core. A producer published on one router reaches peers on another through
 * a pipe: a PipeTransport pair between the two routers, a pipe consumer on the
 * source and a pipe producer (same id) on the target.
 *
 * Pipes are reference counted: `acquire(producer)` makes the producer usable
 * here (piping it on first use), `release(producerId)` gives it back; the pipe
 * producer closes with its last user, the transport pair with its last pipe.
 */
export class RoomRouter {
	readonly worker: MediaWorker;
	readonly router: ms.Router;
	/** Peers of the room assigned to this router. */
	peers = 0;

	readonly #logger: Logger;
	/** Pipe transport pairs from other routers into this one, by source router id. */
	readonly #pipePairs = new Map<string, Promise<PipePair>>();
	/** Producers of other routers piped into this one, by producer id. */
	readonly #piped = new Map<string, PipedProducer>();

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

	/** Consumers on this router's transports. */
	get consumers(): number {
		return this.#consumers;
	}

	#consumers = 0;

	/** Counts a consumer created on this router; call the returned function when it closes. */
	countConsumer(): () => void {
		this.#consumers++;
		let counted = true;
		return () => {
			if (counted) {
				counted = false;
				this.#consumers--;
			}
		};
	}

	/** Pipe producers that other routers' producers have here now. */
	get pipedProducers(): number {
		return this.#piped.size;
	}

	/**
	 * Makes `producer` (living on `source`) consumable on this router.
	 * Resolves once it is; every acquire needs one release.
	 */
	async acquire(producer: ms.Producer, source: RoomRouter): Promise<void> {
		if (source === this) {
			return;
		}
		let piped = this.#piped.get(producer.id);
		if (!piped) {
			piped = this.#pipe(producer, source);
			this.#piped.set(producer.id, piped);
		}
		piped.users++;
		await piped.ready;
	}

	/** Gives back one use of a piped producer; the last one closes the pipe producer. */
	release(producerId: string): void {
		const piped = this.#piped.get(producerId);
		if (!piped) {
			return;
		}
		piped.users--;
		if (piped.users <= 0) {
			piped.close();
		}
	}

	close(): void {
		this.router.close();
	}

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
		// NOTE: acquire() callers see the error; this keeps it from being unhandled.
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
