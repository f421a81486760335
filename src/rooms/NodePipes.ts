import type { z } from 'zod';
import type { Bus, NodeRegistry } from '../cluster';
import { AppError } from '../errors';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { sharedLease, type Shared } from './lease';
import { pipeDone, pipeMissing, pipeOpen, pipeStream } from './pipeMessages';
import { PipeSenders } from './PipeSenders';
import { createPipeTransport, pipeEndOf, type PipeAddress } from './pipeTransport';
import type { RemoteProducer } from './RemoteProducer';
import type { RoomRegistry } from './RoomRegistry';
import type { PipeLease, RoomRouter } from './RoomRouter';
import type { NodePipeInfo } from './types';

/** The receiving end of a pipe: a PipeTransport on a room's router here, from one router of another node. */
type InPipe = { transport: ms.PipeTransport; nodeId: string; streams: number };
/** A remote producer made consumable on one router here: a pipe producer (same id) on an InPipe. */
type InStream = Shared & { producerId: string; producer?: ms.Producer; transportId?: string };

/** Attempts of a set-up or teardown request whose node did not answer (service_unavailable). */
const ATTEMPTS = 3;
/** Heartbeats a node reported gone must stay gone for before its pipes close here. */
const GONE_HEARTBEATS = 10;

export type NodePipesOptions = {
	bus: Bus;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	config: PipeAddress;
	logger: Logger;
};

/**
 * The node's pipes to the other nodes of a fleet: how a producer of a peer
 * on node A reaches the subscribers of a room on node B. As between two
 * workers (RoomRouter.ts), a pipe is a mediasoup PipeTransport pair, one on
 * a room's router on each node (RTP over UDP, SRTP on, RTX and NACK on for
 * real networks), carrying a pipe consumer on A and a pipe producer with the
 * producer's id on B; the PipeTransports listen on cluster.pipeListenIp, on
 * a port of cluster.pipeMinPort-pipeMaxPort.
 *
 * B asks, A answers (PipeSenders.ts, A's ends), over the bus: `pipe.open` (A makes its end and connects
 * it to B's), `pipe.consume` (A sends a producer through it), then
 * `pipe.unconsume` and `pipe.close` when B no longer needs them. Every
 * request is idempotent and tried up to three times. A pipe is never left
 * half-open: B closes its end when a set-up fails, A closes an end that
 * carries nothing for 15 s, and both close every pipe to a node the
 * registry reports gone that is still gone ten heartbeats later (its
 * part of the room, and with it the streams from it, goes sooner). B shares a pipe producer among all its subscribers
 * and the speaker watcher (leases, as RoomRouter's), and closes it with its
 * last lease, and the pipe with its last stream.
 */
export class NodePipes {
	readonly #bus: Bus;
	readonly #registry: NodeRegistry;
	readonly #config: NodePipesOptions['config'];
	readonly #logger: Logger;
	/** Receiving ends, by `targetRouterId|nodeId|sourceRouterId`. */
	readonly #inPipes = new Map<string, Promise<InPipe>>();
	/** Remote producers piped onto a router here, by `targetRouterId|producerId`. */
	readonly #inStreams = new Map<string, InStream>();
	/** The sending ends, towards other nodes' receiving ends. */
	readonly #senders: PipeSenders;
	#closed = false;

	constructor(options: NodePipesOptions) {
		this.#bus = options.bus;
		this.#registry = options.registry;
		this.#config = options.config;
		this.#logger = options.logger.child({ module: 'rooms', nodeId: options.registry.nodeId });
		this.#senders = new PipeSenders({ ...options, logger: this.#logger });
	}

	/** Answers the other nodes' pipe requests, and closes the pipes of nodes that are gone. */
	serve(): void {
		this.#senders.serve();
		// NOTE: late, as a last resort: the pipes from a node go with its part of each room (FleetSpans), which
		// tells the node; closing the pipes to a node that was only slow would leave its ends receiving nothing.
		this.#registry.observer.on('nodeGone', (nodeId, startedAt) => {
			void this.#registry.stillGone(nodeId, startedAt, GONE_HEARTBEATS).then((gone) => gone && this.#closeTo(nodeId));
		});
	}

	/**
	 * Makes `producer` (of a peer on another node) consumable on `target`,
	 * piping it from its node on first use. `ready` rejects when that failed
	 * (release the lease then too).
	 */
	lease(target: RoomRouter, producer: RemoteProducer): PipeLease {
		const key = `${target.router.id}|${producer.id}`;
		let stream = this.#inStreams.get(key);
		if (!stream) {
			stream = this.#pipeIn(target, producer, key);
			this.#inStreams.set(key, stream);
		}
		return sharedLease(stream);
	}

	/** A remote producer paused or resumed: its pipe producers here follow, and so do their consumers. */
	setPaused(producerId: string, paused: boolean): void {
		for (const stream of this.#inStreams.values()) {
			const { producer } = stream;
			if (stream.producerId === producerId && producer && !producer.closed && producer.paused !== paused) {
				void (paused ? producer.pause() : producer.resume()).catch(() => undefined);
			}
		}
	}

	/**
	 * Asks each node this one receives from whether it still has its ends of
	 * the pipes, and closes those it has not (it took this node for gone, or
	 * lost them): their streams close, and the room offers the producers again.
	 */
	async check(): Promise<void> {
		const settled = [...this.#settledInPipes];
		for (const nodeId of new Set(settled.map((pipe) => pipe.nodeId))) {
			const pipes = settled.filter((pipe) => pipe.nodeId === nodeId);
			try {
				const { missing } = await this.#bus.request(nodeId, 'pipe.check', { pipeIds: pipes.map((p) => p.transport.id) }, pipeMissing);
				pipes.filter((p) => missing.includes(p.transport.id)).forEach((p) => p.transport.close());
				if (missing.length > 0) {
					this.#logger.info('pipes lost at their other end closed', { node: nodeId, pipes: missing.length });
				}
			} catch (error) {
				this.#logger.debug('pipes not checked', { node: nodeId, error: (error as Error).message });
			}
		}
	}

	/** Every end of a pipe on this node, for metrics. */
	pipes(): NodePipeInfo[] {
		const pipes = this.#senders.pipes();
		const streams = new Map<string, number>();
		for (const { producer, transportId } of this.#inStreams.values()) {
			if (producer && !producer.closed && transportId) {
				streams.set(transportId, (streams.get(transportId) ?? 0) + 1);
			}
		}
		for (const pipe of this.#settledInPipes) {
			pipes.push({ peerNode: pipe.nodeId, direction: 'in', transport: pipe.transport, streams: streams.get(pipe.transport.id) ?? 0 });
		}
		return pipes;
	}

	/** Closes every pipe (the node is closing: its routers close too). */
	close(): void {
		this.#closed = true;
		this.#senders.close();
		for (const pipe of this.#settledInPipes) {
			pipe.transport.close();
		}
	}

	/** Receiving ends whose set-up is done. */
	readonly #settledInPipes = new Set<InPipe>();

	#pipeIn(target: RoomRouter, producer: RemoteProducer, key: string): InStream {
		let pipe: InPipe | undefined;
		let closed = false;
		const stream: InStream = {
			producerId: producer.id,
			users: 0,
			ready: Promise.resolve(),
			close: () => {
				if (closed) {
					return;
				}
				closed = true;
				if (this.#inStreams.get(key) === stream) {
					this.#inStreams.delete(key);
				}
				stream.producer?.close();
				if (!pipe) {
					return;
				}
				if (!pipe.transport.closed) {
					void this.#tell(producer.nodeId, 'pipe.unconsume', { pipeId: pipe.transport.id, producerId: producer.id });
				}
				if (--pipe.streams === 0) {
					// Its last stream: the pipe goes too, at both ends.
					pipe.transport.close();
				}
			},
		};
		stream.ready = (async () => {
			try {
				pipe = await this.#inPipe(target, producer);
				if (pipe.transport.closed) {
					// Its last stream closed it while this one waited for it: make another.
					pipe = await this.#inPipe(target, producer);
				}
				pipe.streams++;
				stream.transportId = pipe.transport.id;
				const made = await this.#ask(producer.nodeId, 'pipe.consume', { roomId: producer.roomId, pipeId: pipe.transport.id, producerId: producer.id }, pipeStream);
				const pipeProducer = await pipe.transport.produce({
					id: producer.id,
					kind: made.kind,
					rtpParameters: made.rtpParameters as ms.RtpParameters,
					// NOTE: the room's part of the producer's node says how it stands now; a change
					// after this comes with its next part (setPaused).
					paused: producer.paused,
					appData: { ...producer.appData },
				});
				stream.producer = pipeProducer;
				if (closed || producer.closed) {
					throw new Error('the producer closed while being piped');
				}
				pipeProducer.observer.once('close', () => stream.close());
				this.#logger.debug('producer piped from a node', { producerId: producer.id, from: producer.nodeId });
			} catch (error) {
				stream.close();
				throw error;
			}
		})();
		// NOTE: lease holders see the error; this keeps it from being unhandled.
		stream.ready.catch(() => undefined);
		return stream;
	}

	/** The receiving end on `target` of a pipe from the producer's router, made (and connected at both ends) on first use. */
	#inPipe(target: RoomRouter, producer: RemoteProducer): Promise<InPipe> {
		const key = `${target.router.id}|${producer.nodeId}|${producer.routerId}`;
		let pending = this.#inPipes.get(key);
		if (!pending) {
			pending = (async () => {
				const transport = await createPipeTransport(target.router, this.#config, { nodeId: producer.nodeId, direction: 'in' });
				try {
					const end = await this.#ask(producer.nodeId, 'pipe.open', {
						roomId: producer.roomId, routerId: producer.routerId, pipeId: transport.id, end: pipeEndOf(this.#config, transport),
					}, pipeEndReply);
					await transport.connect({ ip: end.ip, port: end.port, srtpParameters: end.srtpParameters as ms.SrtpParameters });
				} catch (error) {
					transport.close();
					void this.#tell(producer.nodeId, 'pipe.close', { pipeId: transport.id });
					throw error;
				}
				const pipe: InPipe = { transport, nodeId: producer.nodeId, streams: 0 };
				this.#settledInPipes.add(pipe);
				transport.observer.once('close', () => {
					this.#settledInPipes.delete(pipe);
					if (this.#inPipes.get(key) === pending) {
						this.#inPipes.delete(key);
					}
					void this.#tell(producer.nodeId, 'pipe.close', { pipeId: transport.id });
				});
				return pipe;
			})();
			this.#inPipes.set(key, pending);
			pending.catch(() => this.#inPipes.delete(key));
		}
		return pending;
	}

	/** A node is gone: every pipe to it closes, at this end (its subscribers here see their consumers close). */
	#closeTo(nodeId: string): void {
		let closed = this.#senders.closeTo(nodeId);
		for (const pipe of [...this.#settledInPipes]) {
			if (pipe.nodeId === nodeId) {
				pipe.transport.close();
				closed++;
			}
		}
		if (closed > 0) {
			this.#logger.info('pipes to a node that is gone closed', { node: nodeId, pipes: closed });
		}
	}

	/** A request to `to`, tried again while its node does not answer. @throws its error */
	async #ask<S extends z.ZodType>(to: string, method: string, body: unknown, result: S): Promise<z.infer<S>> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.#bus.request(to, method, body, result);
			} catch (error) {
				if (!(error instanceof AppError && error.code === 'service_unavailable') || attempt >= ATTEMPTS || this.#closed) {
					throw error;
				}
			}
		}
	}

	/** A teardown request: tried like #ask, failures only logged (the other end's own rules close it anyway). */
	async #tell(to: string, method: string, body: unknown): Promise<void> {
		try {
			await this.#ask(to, method, body, pipeDone);
		} catch (error) {
			this.#logger.debug('pipe teardown not answered', { method, to, error: (error as Error).message });
		}
	}
}

const pipeEndReply = pipeOpen.shape.end;
