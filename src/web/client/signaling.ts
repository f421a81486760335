import { io, type Socket } from 'socket.io-client';
import type {
	Ack, RequestData, RequestName, ResponseData, ServerEventData, ServerEventName,
} from '../../signaling/protocol';

/** The protocol version this client speaks (src/signaling/protocol.ts). */
export const PROTOCOL_VERSION = 1;

/** A refused request, with the server's error code. */
export class RequestError extends Error {
	constructor(readonly code: string, message: string) {
		super(message);
		this.name = 'RequestError';
	}
}

/**
 * The signaling connection of the web client: typed requests with acks,
 * typed server events, and `consumer.new` answered by a handler. socket.io
 * reconnects by itself; `onReconnect` runs after each reconnection.
 */
export class Signaling {
	readonly socket: Socket;

	constructor(token: string) {
		this.socket = io({
			path: '/socket.io',
			transports: ['websocket'],
			auth: { token, protocol: PROTOCOL_VERSION },
			reconnectionDelay: 300,
			reconnectionDelayMax: 2000,
		});
	}

	async request<N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>> {
		const reply = await this.socket.timeout(10_000).emitWithAck(name, data) as Ack<ResponseData<N>>;
		if (!reply.ok) {
			throw new RequestError(reply.error.code, reply.error.message);
		}
		return reply.data;
	}

	on<E extends ServerEventName>(event: E, handler: (data: ServerEventData<E>) => void): void {
		this.socket.on(event as string, handler as (data: unknown) => void);
	}

	/** Answers every consumer.new with the handler's outcome. */
	onConsumerNew(handler: (data: ServerEventData<'consumer.new'>) => Promise<void>): void {
		this.socket.on('consumer.new', (data: ServerEventData<'consumer.new'>, ack: (reply: Ack<object>) => void) => {
			handler(data).then(
				() => ack({ ok: true, data: {} }),
				(error: Error) => ack({ ok: false, error: { code: 'internal', message: error.message } }),
			);
		});
	}

	/** Resolves once connected (rejects with the server's refusal). */
	connected(): Promise<void> {
		if (this.socket.connected) {
			return Promise.resolve();
		}
		return new Promise((resolve, reject) => {
			this.socket.once('connect', () => resolve());
			this.socket.once('connect_error', (error: Error & { data?: { code: string; message: string } }) =>
				reject(error.data ? new RequestError(error.data.code, error.data.message) : error));
		});
	}

	close(): void {
		this.socket.disconnect();
	}
}
