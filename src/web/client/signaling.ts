import { io, type Socket } from 'socket.io-client';
import type { ErrorCode } from '../../errors';
import type {
	Ack, PROTOCOL_VERSION as SERVER_PROTOCOL_VERSION, RequestData, RequestName, ResponseData, ServerEventData, ServerEventName,
} from '../../signaling/protocol';

/**
 * The protocol version this client speaks. NOTE: typed as the server's
 * constant (imported as a type only, so zod stays out of the bundle): bumping
 * PROTOCOL_VERSION in src/signaling/protocol.ts fails the client type check
 * until this follows.
 */
export const PROTOCOL_VERSION: typeof SERVER_PROTOCOL_VERSION = 1;

/** How long a request waits for its ack. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long after a handshake refused for a passing cause (the node's store down, the node starting) to try again. */
const RETRY_REFUSED_MS = 3000;

/** A refused or failed request: the server's error code, or `disconnected` / `timeout` from this side. */
export class RequestError extends Error {
	constructor(readonly code: ErrorCode | 'disconnected' | 'timeout', message: string) {
		super(message);
		this.name = 'RequestError';
	}
}

/**
 * The signaling connection of the web client: typed requests with acks,
 * typed server events, and `consumer.new` answered by a handler. socket.io
 * reconnects by itself; the socket's `connect` event fires after each
 * reconnection. A handshake the node refused for a passing cause
 * (`service_unavailable`, `not_ready`) is tried again every 3 s, which
 * socket.io would not do.
 */
export class Signaling {
	readonly socket: Socket;
	#closed = false;

	/** `token` as a function: asked again at each (re)connection, for tokens that are refreshed. */
	constructor(token: string | (() => Promise<string>)) {
		this.socket = io({
			path: '/socket.io',
			transports: ['websocket'],
			auth: typeof token === 'string'
				? { token, protocol: PROTOCOL_VERSION }
				: (cb) => void token().then((t) => cb({ token: t, protocol: PROTOCOL_VERSION }), () => cb({ protocol: PROTOCOL_VERSION })),
			reconnectionDelay: 300,
			reconnectionDelayMax: 2000,
		});
		this.socket.on('connect_error', (error: Error & { data?: { code?: ErrorCode } }) => {
			if (error.data?.code === 'service_unavailable' || error.data?.code === 'not_ready') {
				setTimeout(() => {
					if (!this.#closed && !this.socket.connected) {
						this.socket.connect();
					}
				}, RETRY_REFUSED_MS);
			}
		});
	}

	get connected(): boolean {
		return this.socket.connected;
	}

	/**
	 * Sends a request and resolves with its data.
	 * NOTE: fails at once while disconnected: socket.io would otherwise buffer
	 * the request and deliver it on the next connection, before room.resume,
	 * where the server no longer knows who is asking.
	 * @throws RequestError
	 */
	async request<N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>> {
		if (!this.socket.connected) {
			throw new RequestError('disconnected', `${name}: not connected`);
		}
		let reply: Ack<ResponseData<N>>;
		try {
			reply = await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, data) as Ack<ResponseData<N>>;
		} catch {
			throw new RequestError('timeout', `${name}: no answer within ${REQUEST_TIMEOUT_MS} ms`);
		}
		if (!reply.ok) {
			throw new RequestError(reply.error.code, reply.error.message);
		}
		return reply.data;
	}

	on<E extends ServerEventName>(event: E, handler: (data: ServerEventData<E>) => void): void {
		this.socket.on(event as string, handler as (data: unknown) => void);
	}

	/** Answers every consumer.new with the handler's outcome (a refusal makes the server close the consumer). */
	onConsumerNew(handler: (data: ServerEventData<'consumer.new'>) => Promise<void>): void {
		this.socket.on('consumer.new', (data: ServerEventData<'consumer.new'>, ack: (reply: Ack<object>) => void) => {
			handler(data).then(
				() => ack({ ok: true, data: {} }),
				(error: Error) => ack({ ok: false, error: { code: 'invalid_state', message: error.message } }),
			);
		});
	}

	/** Resolves once connected; rejects with the server's refusal (bad token, wrong protocol). */
	whenConnected(): Promise<void> {
		if (this.socket.connected) {
			return Promise.resolve();
		}
		return new Promise((resolve, reject) => {
			const onConnect = () => {
				this.socket.off('connect_error', onError);
				resolve();
			};
			const onError = (error: Error & { data?: { code: ErrorCode; message: string } }) => {
				this.socket.off('connect', onConnect);
				reject(error.data ? new RequestError(error.data.code, error.data.message) : error);
			};
			this.socket.once('connect', onConnect);
			this.socket.once('connect_error', onError);
		});
	}

	close(): void {
		this.#closed = true;
		this.socket.disconnect();
	}
}
