import type { Bus, NodeRegistry } from '../cluster';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { pipeCheck, pipeClose, pipeConsume, pipeOpen, pipeUnconsume, type PipeEnd } from './pipeMessages';
import { createPipeTransport, pipeEndOf, type PipeAddress } from './pipeTransport';
import type { RoomRegistry } from './RoomRegistry';
import type { NodePipeInfo } from './types';

/** The sending end of a pipe, towards another node's receiving end `pipeId`: its pipe consumers, by producer id. */
type OutPipe = { transport: ms.PipeTransport; nodeId: string; consumers: Map<string, Promise<ms.Consumer>>; orphanTimer?: NodeJS.Timeout };

/** A sending end that carries nothing for this long closes: its receiving node gave up on it. */
const ORPHAN_MS = 15_000;

/**
 * The sending ends of this node's pipes (NodePipes.ts): it answers the other
 * nodes' `pipe.open`, `pipe.consume`, `pipe.unconsume`, `pipe.close` and
 * `pipe.check` for the producers of the rooms here, for live nodes of the
 * fleet only. An end closes when its node asks, after 15 s without a
 * stream, or when NodePipes finds its node gone.
 */
export class PipeSenders {
	readonly #bus: Bus;
	readonly #registry: NodeRegistry;
	readonly #rooms: RoomRegistry;
	readonly #config: PipeAddress;
	readonly #logger: Logger;
	/** Sending ends, by `nodeId|pipeId`. */
	readonly #outPipes = new Map<string, OutPipe>();
	#closed = false;

	constructor(deps: { bus: Bus; registry: NodeRegistry; rooms: RoomRegistry; config: PipeAddress; logger: Logger }) {
		this.#bus = deps.bus;
		this.#registry = deps.registry;
		this.#rooms = deps.rooms;
		this.#config = deps.config;
		this.#logger = deps.logger;
	}

	serve(): void {
		this.#bus.handle('pipe.open', pipeOpen, (body, from) => this.#open(body, from));
		this.#bus.handle('pipe.consume', pipeConsume, (body, from) => this.#consume(body, from));
		this.#bus.handle('pipe.unconsume', pipeUnconsume, async ({ pipeId, producerId }, from) => {
			const out = this.#outPipes.get(`${from}|${pipeId}`);
			(await out?.consumers.get(producerId)?.catch(() => undefined))?.close();
			return {};
		});
		this.#bus.handle('pipe.close', pipeClose, async ({ pipeId }, from) => {
			this.#outPipes.get(`${from}|${pipeId}`)?.transport.close();
			return {};
		});
		this.#bus.handle('pipe.check', pipeCheck, async ({ pipeIds }, from) => ({ missing: pipeIds.filter((pipeId) => !this.#outPipes.has(`${from}|${pipeId}`)) }));
	}

	/** The sending ends, for metrics. */
	pipes(): NodePipeInfo[] {
		return [...this.#outPipes.values()].map((out) => ({ peerNode: out.nodeId, direction: 'out', transport: out.transport, streams: out.consumers.size }));
	}

	/** Closes the ends towards `nodeId`; returns how many. */
	closeTo(nodeId: string): number {
		const ends = [...this.#outPipes.values()].filter((out) => out.nodeId === nodeId);
		ends.forEach((out) => out.transport.close());
		return ends.length;
	}

	close(): void {
		this.#closed = true;
		for (const out of this.#outPipes.values()) {
			out.transport.close();
		}
	}

	/** pipe.open from node `from`: the sending end on one of the room's routers, connected to the asker's end. */
	async #open({ roomId, routerId, pipeId, end }: { roomId: string; routerId: string; pipeId: string; end: PipeEnd }, from: string): Promise<PipeEnd> {
		await this.#assertLive(from);
		const key = `${from}|${pipeId}`;
		const existing = this.#outPipes.get(key);
		if (existing) {
			return pipeEndOf(this.#config, existing.transport);
		}
		const router = this.#rooms.get(roomId)?.routers.find((r) => r.router.id === routerId);
		if (!router) {
			throw new NotFoundError('no such router of the room here');
		}
		const transport = await createPipeTransport(router.router, this.#config, { nodeId: from, direction: 'out' });
		try {
			await transport.connect({ ip: end.ip, port: end.port, srtpParameters: end.srtpParameters as ms.SrtpParameters });
		} catch (error) {
			transport.close();
			throw new AppError('validation_failed', `pipe end refused: ${(error as Error).message.slice(0, 200)}`);
		}
		const out: OutPipe = { transport, nodeId: from, consumers: new Map() };
		this.#outPipes.set(key, out);
		transport.observer.once('close', () => {
			clearTimeout(out.orphanTimer);
			if (this.#outPipes.get(key) === out) {
				this.#outPipes.delete(key);
			}
		});
		this.#watchOrphan(out);
		return pipeEndOf(this.#config, transport);
	}

	/** pipe.consume from node `from`: a pipe consumer of one of the room's producers here. */
	async #consume({ roomId, pipeId, producerId }: { roomId: string; pipeId: string; producerId: string }, from: string): Promise<unknown> {
		const out = this.#outPipes.get(`${from}|${pipeId}`);
		if (!out || out.transport.closed) {
			throw new NotFoundError('no such pipe');
		}
		let consumer = out.consumers.get(producerId);
		if (!consumer) {
			const local = this.#rooms.get(roomId)?.exchange.localProducer(producerId);
			if (!local) {
				throw new NotFoundError('no such producer of the room here');
			}
			consumer = out.transport.consume({ producerId: local.id });
			out.consumers.set(producerId, consumer);
			clearTimeout(out.orphanTimer);
			consumer.then((made) => made.observer.once('close', () => {
				if (out.consumers.get(producerId) === consumer) {
					out.consumers.delete(producerId);
					this.#watchOrphan(out);
				}
			}), () => {
				out.consumers.delete(producerId);
				this.#watchOrphan(out);
			});
		}
		const made = await consumer;
		return { kind: made.kind, rtpParameters: made.rtpParameters, paused: made.producerPaused };
	}

	/** An end that carries no stream closes after ORPHAN_MS, unless one comes. */
	#watchOrphan(out: OutPipe): void {
		clearTimeout(out.orphanTimer);
		if (out.consumers.size === 0 && !out.transport.closed) {
			out.orphanTimer = setTimeout(() => out.transport.close(), ORPHAN_MS).unref();
		}
	}

	async #assertLive(nodeId: string): Promise<void> {
		if (this.#closed || !await this.#registry.findLive(nodeId)) {
			throw new NotFoundError('no such node in the fleet');
		}
	}
}
