import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logging';
import { BUS_VERSION, busMessageSchema, type BusCast, type BusMessage, type BusReply, type BusRequest } from './busMessage';
import { clusterUnavailable } from './redis';

type Handler = { schema: z.ZodType; run: (body: never, from: string) => Promise<unknown> };
type Listener = { schema: z.ZodType; run: (body: never, from: string) => void };
type Pending = { resolve: (reply: BusReply) => void; timer: NodeJS.Timeout };

/** How long a request waits for its reply by default. */
const REQUEST_TIMEOUT_MS = 3000;

/**
 * What nodes tell each other, over Redis pub/sub: a request to one node
 * (`request`, answered by the `handle`r of its method there) and a cast to
 * every node (`cast`, heard by `listen`ers). Channels: `PREFIX bus:ID` for
 * each node, `PREFIX bus` for all. Every message is validated
 * (busMessage.ts); no client can send one, since only nodes hold Redis's
 * password.
 *
 * Pub/sub keeps nothing: a message sent while a node cannot hear it is lost.
 * A request then times out (`service_unavailable`, which the client may try
 * again); a cast must be one that a later one, or a timeout, makes good.
 */
export class Bus {
	readonly nodeId: string;
	readonly #publisher: Redis;
	readonly #subscriber: Redis;
	readonly #keyPrefix: string;
	readonly #logger: Logger;
	readonly #handlers = new Map<string, Handler>();
	readonly #listeners = new Map<string, Listener>();
	readonly #pending = new Map<string, Pending>();
	#closed = false;

	/**
	 * `publisher`: the node's shared connection (not owned); `subscriber`: a
	 * connection of the bus's own, in subscriber mode (createRedis with
	 * waitWhileAway, so that it subscribes again once Redis is back).
	 */
	constructor(deps: { publisher: Redis; subscriber: Redis; nodeId: string; keyPrefix: string; logger: Logger }) {
		this.nodeId = deps.nodeId;
		this.#publisher = deps.publisher;
		this.#subscriber = deps.subscriber;
		this.#keyPrefix = deps.keyPrefix;
		this.#logger = deps.logger.child({ module: 'cluster', nodeId: deps.nodeId });
		this.#subscriber.on('message', (channel: string, text: string) => this.#onMessage(text));
	}

	/**
	 * Subscribes to this node's channel and the fleet's. Resolves once
	 * subscribed, or after 2 s while Redis is away (the subscription then
	 * goes out when it is back, and again after each reconnection).
	 */
	async start(): Promise<void> {
		const subscribed = this.#subscriber.subscribe(this.#channel(this.nodeId), this.#channel())
			.catch((error: unknown) => this.#logger.warn('cluster bus subscription failed', { error: (error as Error).message }));
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([subscribed, new Promise((resolve) => {
			timer = setTimeout(resolve, 2000);
		})]);
		clearTimeout(timer);
	}

	/** Answers requests for `method`: `run` gets their body once it fits `schema`; what it throws goes back as an error. */
	handle<S extends z.ZodType>(method: string, schema: S, run: (body: z.infer<S>, from: string) => Promise<unknown>): void {
		this.#handlers.set(method, { schema, run });
	}

	/** Hears casts of `method` from the other nodes. */
	listen<S extends z.ZodType>(method: string, schema: S, run: (body: z.infer<S>, from: string) => void): void {
		this.#listeners.set(method, { schema, run });
	}

	/**
	 * Asks the node `to`, and resolves with its answer once it fits `result`.
	 * @throws the AppError the handler threw; service_unavailable when Redis
	 * is away or no answer came within `timeoutMs`
	 */
	async request<S extends z.ZodType>(to: string, method: string, body: unknown, result: S, timeoutMs = REQUEST_TIMEOUT_MS): Promise<z.infer<S>> {
		const message: BusRequest = { v: BUS_VERSION, kind: 'request', id: randomUUID(), from: this.nodeId, to, method, body };
		const reply = to === this.nodeId ? await this.#answer(message) : await this.#send(message, timeoutMs);
		if (!reply.ok) {
			throw new AppError((reply.error?.code ?? 'internal') as ErrorCode, reply.error?.message);
		}
		const parsed = result.safeParse(reply.body);
		if (!parsed.success) {
			this.#logger.warn('cluster reply refused', { method, from: to });
			throw new AppError('internal');
		}
		return parsed.data;
	}

	/** Tells every other node (best effort: a node that cannot hear it now never does). */
	cast(method: string, body: unknown): void {
		const message: BusCast = { v: BUS_VERSION, kind: 'cast', from: this.nodeId, method, body };
		this.#publisher.publish(this.#channel(), JSON.stringify(message))
			.catch((error: unknown) => this.#logger.warn('cluster cast not sent', { method, error: (error as Error).message }));
	}

	/** Fails what still waits for an answer; the subscriber connection is the caller's to close. */
	close(): void {
		this.#closed = true;
		for (const [id, pending] of this.#pending) {
			clearTimeout(pending.timer);
			pending.resolve(failure({ id, from: this.nodeId, to: this.nodeId }, 'service_unavailable', 'the node is closing'));
		}
		this.#pending.clear();
	}

	async #send(message: BusRequest, timeoutMs: number): Promise<BusReply> {
		if (this.#closed) {
			throw clusterUnavailable(new Error('the bus is closed'));
		}
		const reply = new Promise<BusReply>((resolve) => {
			const timer = setTimeout(() => {
				this.#pending.delete(message.id);
				resolve(failure(message, 'service_unavailable', 'the node that owns it did not answer; try again shortly'));
			}, timeoutMs);
			this.#pending.set(message.id, { resolve, timer });
		});
		try {
			await this.#publisher.publish(this.#channel(message.to), JSON.stringify(message));
		} catch (error) {
			clearTimeout(this.#pending.get(message.id)?.timer);
			this.#pending.delete(message.id);
			throw clusterUnavailable(error);
		}
		return reply;
	}

	#onMessage(text: string): void {
		let message: BusMessage;
		try {
			const parsed = busMessageSchema.safeParse(JSON.parse(text));
			if (!parsed.success) {
				throw parsed.error;
			}
			message = parsed.data;
		} catch {
			this.#logger.warn('cluster message refused', { bytes: text.length });
			return;
		}
		if (message.kind === 'cast') {
			this.#onCast(message);
		} else if (message.to !== this.nodeId) {
			return;
		} else if (message.kind === 'reply') {
			const pending = this.#pending.get(message.id);
			if (pending) {
				clearTimeout(pending.timer);
				this.#pending.delete(message.id);
				pending.resolve(message);
			}
		} else {
			void this.#answer(message).then((reply) => this.#publisher.publish(this.#channel(message.from), JSON.stringify(reply)))
				.catch((error: unknown) => this.#logger.warn('cluster reply not sent', { method: message.method, error: (error as Error).message }));
		}
	}

	#onCast(message: BusCast): void {
		const listener = this.#listeners.get(message.method);
		if (message.from === this.nodeId || !listener) {
			return;
		}
		const body = listener.schema.safeParse(message.body);
		if (!body.success) {
			this.#logger.warn('cluster message refused', { method: message.method, from: message.from });
			return;
		}
		try {
			listener.run(body.data as never, message.from);
		} catch (error) {
			this.#logger.error('cluster listener failed', { method: message.method, error });
		}
	}

	/** The reply to a request: never throws. */
	async #answer(message: BusRequest): Promise<BusReply> {
		const handler = this.#handlers.get(message.method);
		if (!handler) {
			return failure(message, 'not_found', 'unknown request');
		}
		const body = handler.schema.safeParse(message.body);
		if (!body.success) {
			this.#logger.warn('cluster message refused', { method: message.method, from: message.from });
			return failure(message, 'validation_failed', 'the request is not valid');
		}
		try {
			const result = await handler.run(body.data as never, message.from);
			return { v: BUS_VERSION, kind: 'reply', id: message.id, from: this.nodeId, to: message.from, ok: true, body: result ?? null };
		} catch (error) {
			if (error instanceof AppError) {
				return failure(message, error.code, error.message);
			}
			this.#logger.error('cluster request failed', { method: message.method, error });
			return failure(message, 'internal', 'internal error');
		}
	}

	#channel(nodeId?: string): string {
		return nodeId === undefined ? `${this.#keyPrefix}bus` : `${this.#keyPrefix}bus:${nodeId}`;
	}
}

/** A reply that refuses `request` (its `from` is the node that answers). */
function failure(request: { id: string; from: string; to: string }, code: ErrorCode, message: string): BusReply {
	return { v: BUS_VERSION, kind: 'reply', id: request.id, from: request.to, to: request.from, ok: false, error: { code, message } };
}
