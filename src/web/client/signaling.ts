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

/** How many failed connections to a node the client was sent to before it goes back to its own (that node may be gone). */
const MOVED_ATTEMPTS = 2;

/** A refused or failed request: the server's error code, or `disconnected` / `timeout` from this side. */
export class RequestError extends Error {
	constructor(readonly code: ErrorCode | 'disconnected' | 'timeout', message: string, readonly details?: Record<string, unknown>) {
		super(message);
		this.name = 'RequestError';
	}
}

type Token = string | (() => Promise<string>);
/** A socket.io listener, as socket.io types it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

/**
 * The signaling connection of the web client: typed requests with acks,
 * typed server events, and `consumer.new` answered by a handler. socket.io
 * reconnects by itself; the socket's `connect` event fires after each
 * reconnection. A handshake the node refused for a passing cause
 * (`service_unavailable`, `not_ready`) is tried again every 3 s, which
 * socket.io would not do.
 *
 * In a fleet a room lives on one node: a join elsewhere is answered
 * `room_elsewhere` with that node's URL, and `moveTo` connects there (the
 * listeners carry over). A node it was sent to that stops answering (two
 * failed connections) sends it back to the page's own node, which knows where
 * the room went.
 */
export class Signaling {
	#socket: Socket;
	readonly #token: Token;
	/** Listeners to put on every socket this connection uses (a move makes a new one). */
	readonly #listeners: [event: string, listener: Listener][] = [];
	/** The node this connection was sent to (room_elsewhere), while it is not the page's own. */
	#movedTo: string | undefined;
	#failedAtMove = 0;
	#closed = false;

	/** `token` as a function: asked again at each (re)connection, for tokens that are refreshed. */
	constructor(token: Token) {
		this.#token = token;
		this.#socket = this.#connect(undefined);
	}

	/** The socket.io socket now (a move replaces it). */
	get socket(): Socket {
		return this.#socket;
	}

	/**
	 * Connects to the node at `url` instead (a room hosted there), or back to
	 * the page's own node with none; resolves once connected. Listeners set
	 * with `on`, `onSocket` and `onConsumerNew` carry over.
	 */
	async moveTo(url: string | undefined): Promise<void> {
		this.#movedTo = url === undefined || new URL(url).origin === location.origin ? undefined : new URL(url).origin;
		this.#failedAtMove = 0;
		this.#socket.removeAllListeners();
		this.#socket.disconnect();
		this.#socket = this.#connect(this.#movedTo);
		for (const [event, listener] of this.#listeners) {
			this.#socket.on(event, listener);
		}
		await this.whenConnected();
	}

	#connect(origin: string | undefined): Socket {
		const token = this.#token;
		const options = {
			path: '/socket.io',
			transports: ['websocket'],
			auth: typeof token === 'string'
				? { token, protocol: PROTOCOL_VERSION }
				: (cb: (data: object) => void) => void token().then((t) => cb({ token: t, protocol: PROTOCOL_VERSION }), () => cb({ protocol: PROTOCOL_VERSION })),
			reconnectionDelay: 300,
			reconnectionDelayMax: 2000,
		};
		const socket = origin === undefined ? io(options) : io(origin, options);
		socket.on('connect', () => {
			this.#failedAtMove = 0;
		});
		socket.on('connect_error', (error: Error & { data?: { code?: ErrorCode } }) => {
			if (this.#movedTo !== undefined && socket === this.#socket && ++this.#failedAtMove >= MOVED_ATTEMPTS) {
				// NOTE: the node the room was on does not answer (killed, gone): back to this page's own node, which says where the room is now.
				void this.moveTo(undefined).catch(() => undefined);
				return;
			}
			if (error.data?.code === 'service_unavailable' || error.data?.code === 'not_ready') {
				setTimeout(() => {
					if (!this.#closed && socket === this.#socket && !socket.connected) {
						socket.connect();
					}
				}, RETRY_REFUSED_MS);
			}
		});
		return socket;
	}

	get connected(): boolean {
		return this.#socket.connected;
	}

	/**
	 * Sends a request and resolves with its data.
	 * NOTE: fails at once while disconnected: socket.io would otherwise buffer
	 * the request and deliver it on the next connection, before room.resume,
	 * where the server no longer knows who is asking.
	 * @throws RequestError
	 */
	async request<N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>> {
		if (!this.#socket.connected) {
			throw new RequestError('disconnected', `${name}: not connected`);
		}
		let reply: Ack<ResponseData<N>>;
		try {
			reply = await this.#socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, data) as Ack<ResponseData<N>>;
		} catch {
			throw new RequestError('timeout', `${name}: no answer within ${REQUEST_TIMEOUT_MS} ms`);
		}
		if (!reply.ok) {
			throw new RequestError(reply.error.code, reply.error.message, reply.error.details);
		}
		return reply.data;
	}

	on<E extends ServerEventName>(event: E, handler: (data: ServerEventData<E>) => void): void {
		this.#listen(event, handler as (data: unknown) => void);
	}

	/** The socket's own `connect` (after each connection, moves included) and `disconnect`. */
	onSocket(event: 'connect' | 'disconnect', handler: () => void): void {
		this.#listen(event, handler);
	}

	#listen(event: string, listener: Listener): void {
		this.#listeners.push([event, listener]);
		this.#socket.on(event, listener);
	}

	/** Answers every consumer.new with the handler's outcome (a refusal makes the server close the consumer). */
	onConsumerNew(handler: (data: ServerEventData<'consumer.new'>) => Promise<void>): void {
		this.#listen('consumer.new', ((data: ServerEventData<'consumer.new'>, ack: (reply: Ack<object>) => void) => {
			handler(data).then(
				() => ack({ ok: true, data: {} }),
				(error: Error) => ack({ ok: false, error: { code: 'invalid_state', message: error.message } }),
			);
		}) as Listener);
	}

	/** Resolves once connected; rejects with the server's refusal (bad token, wrong protocol). */
	whenConnected(): Promise<void> {
		const socket = this.#socket;
		if (socket.connected) {
			return Promise.resolve();
		}
		return new Promise((resolve, reject) => {
			const onConnect = () => {
				socket.off('connect_error', onError);
				resolve();
			};
			const onError = (error: Error & { data?: { code: ErrorCode; message: string } }) => {
				socket.off('connect', onConnect);
				reject(error.data ? new RequestError(error.data.code, error.data.message) : error);
			};
			socket.once('connect', onConnect);
			socket.once('connect_error', onError);
		});
	}

	close(): void {
		this.#closed = true;
		this.#socket.disconnect();
	}
}
