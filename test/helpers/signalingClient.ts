import { io, type Socket } from 'socket.io-client';
import {
	PROTOCOL_VERSION, type Ack, type RequestData, type RequestName, type ResponseData, type ServerEventData,
	type ServerEventName,
} from '../../src/signaling/protocol';
import { checkServerEvent } from './serverEvents';

export type SignalingConnectOptions = {
	token: string;
	/** Sent in the handshake's `auth`; defaults to the current PROTOCOL_VERSION. */
	protocol?: number;
	/** Sent as the Origin header of the WebSocket upgrade. */
	origin?: string;
	/** How long to wait for the handshake; default 5000 ms. */
	connectTimeoutMs?: number;
	/** How long `request` and `requestRaw` wait for an ack; default 5000 ms. */
	requestTimeoutMs?: number;
	/** The local address to connect from (e.g. 127.0.0.2: another client on the same machine). */
	localAddress?: string;
	/** More headers of the WebSocket upgrade (X-Forwarded-For, as a proxy would add). */
	headers?: Record<string, string>;
};

/**
 * A server event as received. Each is checked against its schema in
 * protocol.ts (test/helpers/serverEvents.ts); a mismatch fails the test
 * (test/helpers/failOnServerEventMismatch.ts), but the event is kept as sent.
 */
export type ReceivedEvent = { [N in ServerEventName]: { name: N; data: ServerEventData<N> } }[ServerEventName];

export type ConsumerNewHandler = (data: ServerEventData<'consumer.new'>) => void | Promise<void>;

/** A refused request: `code` and `message` come from the ack's `error`. */
export class SignalingRequestError extends Error {
	constructor(
		readonly request: string,
		readonly code: string,
		message: string,
		readonly details?: Record<string, unknown>,
	) {
		super(message);
		this.name = 'SignalingRequestError';
	}
}

/**
 * A test client for the signaling protocol over socket.io-client, typed from
 * src/signaling/protocol.ts. One client is one socket.io connection; it never
 * reconnects on its own (a test that wants a reconnection makes a new client).
 */
export class SignalingClient {
	/** Every server event received, in order of arrival. */
	readonly events: ReceivedEvent[] = [];
	/** Every ack received, in order of arrival. */
	readonly replies: { name: string; reply: unknown }[] = [];
	private consumerNewHandler: ConsumerNewHandler | undefined;

	private constructor(readonly socket: Socket, private readonly requestTimeoutMs: number) {
		socket.onAny((name: string, data: unknown) => {
			checkServerEvent(name, data);
			this.events.push({ name, data } as ReceivedEvent);
		});
		socket.on('consumer.new', (data: ServerEventData<'consumer.new'>, ack?: (reply: Ack<Record<string, never>>) => void) => {
			void this.answerConsumerNew(data, ack);
		});
	}

	/**
	 * Connects and resolves once the server accepted the handshake. When the
	 * server refuses it (its middleware calls `next(err)` with `err.data`),
	 * rejects with that `data` (`{ code, message }`); on any other failure,
	 * with the socket.io error.
	 */
	static async connect(url: string, options: SignalingConnectOptions): Promise<SignalingClient> {
		const { token, protocol = PROTOCOL_VERSION, origin, connectTimeoutMs = 5000, requestTimeoutMs = 5000, localAddress, headers = {} } = options;
		const socket = io(url, {
			transports: ['websocket'],
			auth: { token, protocol },
			extraHeaders: { ...headers, ...(origin !== undefined ? { Origin: origin } : {}) },
			...(localAddress !== undefined ? { localAddress } : {}),
			// NOTE: forceNew, or socket.io-client shares one connection (and its
			// handshake auth) between clients of the same URL.
			forceNew: true,
			reconnection: false,
			autoConnect: false,
			timeout: connectTimeoutMs,
		});
		const client = new SignalingClient(socket, requestTimeoutMs);
		await new Promise<void>((resolve, reject) => {
			const onConnect = (): void => {
				socket.off('connect_error', onError);
				resolve();
			};
			const onError = (err: Error & { data?: unknown }): void => {
				socket.off('connect', onConnect);
				socket.disconnect();
				reject(err.data ?? err);
			};
			socket.once('connect', onConnect);
			socket.once('connect_error', onError);
			socket.connect();
		});
		return client;
	}

	get connected(): boolean {
		return this.socket.connected;
	}

	/**
	 * Sends a request and resolves with the ack's `data`; rejects with a
	 * SignalingRequestError for `{ ok: false, error }`, and with an Error on a
	 * timeout or an ack that is neither.
	 */
	async request<N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>> {
		const ack = await this.requestRaw(name, data);
		if (isAck(ack)) {
			if (ack.ok) {
				return ack.data as ResponseData<N>;
			}
			const { code, message, details } = ack.error;
			throw new SignalingRequestError(name, code, message, details);
		}
		throw new Error(`${name}: malformed ack ${JSON.stringify(ack)}`);
	}

	/**
	 * Emits `name` with any arguments and an ack callback, and resolves with
	 * whatever the server acknowledged: for requests the contract does not allow.
	 */
	async requestRaw(name: string, ...args: unknown[]): Promise<unknown> {
		try {
			const reply: unknown = await this.socket.timeout(this.requestTimeoutMs).emitWithAck(name, ...args);
			this.replies.push({ name, reply });
			return reply;
		} catch (err) {
			throw new Error(`${name}: no ack within ${this.requestTimeoutMs} ms (${(err as Error).message})`);
		}
	}

	/** Listens to a server event; returns a function that removes the listener. */
	on<E extends ServerEventName>(event: E, handler: (data: ServerEventData<E>) => void): () => void {
		const listener = (data: ServerEventData<E>): void => handler(data);
		this.socket.on(event as string, listener);
		return () => {
			this.socket.off(event as string, listener);
		};
	}

	/**
	 * Sets the one handler that answers `consumer.new`: when it returns (or its
	 * promise resolves) the ack is `{ ok: true, data: {} }`; when it throws, the
	 * ack is `{ ok: false, error }` with the error's `code` (default `internal`).
	 * NOTE: with no handler set, `consumer.new` is recorded but never
	 * acknowledged, so the server's ack timeout is what a test sees.
	 */
	onConsumerNew(handler: ConsumerNewHandler | undefined): void {
		this.consumerNewHandler = handler;
	}

	/** Waits for the next `event` (or one already in `events` that matches). */
	async waitFor<E extends ServerEventName>(
		event: E,
		match: (data: ServerEventData<E>) => boolean = () => true,
		timeoutMs = 5000,
	): Promise<ServerEventData<E>> {
		const seen = this.events.find((e) => e.name === event && match(e.data as ServerEventData<E>));
		if (seen) {
			return seen.data as ServerEventData<E>;
		}
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				off();
				reject(new Error(`no ${event} within ${timeoutMs} ms`));
			}, timeoutMs);
			const off = this.on(event, (data) => {
				if (match(data)) {
					clearTimeout(timer);
					off();
					resolve(data);
				}
			});
		});
	}

	/** Closes the connection; idempotent. */
	disconnect(): void {
		this.consumerNewHandler = undefined;
		this.socket.disconnect();
	}

	private async answerConsumerNew(data: ServerEventData<'consumer.new'>, ack: unknown): Promise<void> {
		const handler = this.consumerNewHandler;
		if (!handler || typeof ack !== 'function') {
			return;
		}
		let reply: Ack<Record<string, never>>;
		try {
			await handler(data);
			reply = { ok: true, data: {} };
		} catch (err) {
			const { code, message } = err as { code?: unknown; message?: unknown };
			reply = {
				ok: false,
				error: { code: (typeof code === 'string' ? code : 'internal') as 'internal', message: String(message ?? err) },
			};
		}
		(ack as (reply: Ack<Record<string, never>>) => void)(reply);
	}
}

function isAck(value: unknown): value is Ack<unknown> {
	if (typeof value !== 'object' || value === null || !('ok' in value)) {
		return false;
	}
	const ack = value as { ok: unknown; error?: unknown };
	return ack.ok === true || (ack.ok === false && typeof ack.error === 'object' && ack.error !== null);
}
