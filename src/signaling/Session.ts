import type { Socket } from 'socket.io';
import { z } from 'zod';
import { mayJoinRoom, type Claims } from '../auth';
import type { SignalingConfig } from '../config';
import { AppError, InvalidStateError, NotFoundError, toWire, ValidationError, type ErrorCode } from '../errors';
import type { Logger } from '../logging';
import type { ms } from '../media';
import { isCallRoom, type CallService, type Device, type Presence } from '../calls';
import { isLinkRoom } from '../links';
import type { FleetRooms, Peer, PeerIdentity, PeerLink, Room, RoomRegistry, RoomService } from '../rooms';
import { SerialQueue, type TypedEmitter } from '../util';
import { isRequestName, requests, type Ack, type RequestName } from './protocol';
import { callHandlers } from './callHandlers';
import { mediaHandlers, type Handlers } from './mediaHandlers';
import type { ChatRelay } from './chatRelay';
import type { KeyRelay } from './keyRelay';
import { peerRoom, toOthers } from './keyRelay';
import { callEvent, consumerNew, otherPeers, peerInfo, serverEvent, userRoom } from './wire';

export type SignalingEvents = {
	/** A request was answered: its method ("unknown" outside the protocol), error code if refused, and time taken. */
	request: [method: string, code: ErrorCode | undefined, seconds: number];
	/** A connection crossed a signaling limit. */
	limit: [limit: 'messagesPerSecond' | 'connectionsPerIp'];
};

export type SessionDeps = {
	observer: TypedEmitter<SignalingEvents>;
	registry: RoomRegistry;
	roomService: Pick<RoomService, 'assertAdmits'>;
	calls: CallService;
	presence: Presence;
	config: SignalingConfig;
	logger: Logger;
	/** The router RTP capabilities every room uses. */
	routerRtpCapabilities: () => ms.RtpCapabilities;
	/** A fleet's room directory: where each room is (rooms/FleetRooms.ts); a node alone hosts every room. */
	placement?: Pick<FleetRooms, 'place'>;
	/** Sender keys between the peers of a call's room. */
	keys: KeyRelay;
	/** Chat between the peers of a room. */
	chat: ChatRelay;
};

/**
 * One client connection. It validates every request against the protocol,
 * runs them one at a time (so limits and state checks cannot race), and acks
 * each with `{ ok, data }` or `{ ok: false, error }`. A session is bound to at
 * most one peer; the peer outlives the session for the reconnect grace.
 */
export class Session {
	readonly #socket: Socket;
	readonly #claims: Claims;
	readonly #deps: SessionDeps;
	readonly #logger: Logger;
	readonly #handlers: Handlers;
	readonly #queue = new SerialQueue();
	/** This connection as a device of its account, by its socket's id (unique in a fleet). */
	readonly #device: Device;
	#room: Room | undefined;
	#peer: Peer | undefined;

	constructor(socket: Socket, claims: Claims, deps: SessionDeps) {
		this.#socket = socket;
		this.#claims = claims;
		this.#deps = deps;
		this.#logger = deps.logger.child({ module: 'signaling', socketId: socket.id, sub: claims.sub });
		this.#device = {
			id: socket.id,
			notify: (name, data) => {
				const [event, payload] = callEvent(name, data);
				socket.emit(event, payload);
			},
		};
		// NOTE: after the device: the call handlers take it.
		this.#handlers = this.#makeHandlers();

		socket.onAny((event: string, ...args: unknown[]) => this.#onRequest(event, args));
		socket.on('disconnect', (reason) => this.#onDisconnect(reason));
		// An account's connected devices ring for its calls: in a fleet, through the account's socket.io room.
		if (claims.sid) {
			void socket.join(userRoom(claims.sub));
			deps.presence.add(claims.sub, this.#device);
		}
	}


	#onRequest(event: string, args: unknown[]): void {
		const ack = typeof args.at(-1) === 'function' ? (args.pop() as (reply: Ack<unknown>) => void) : undefined;
		if (!ack) {
			// A request without an ack cannot be answered; nothing is done for it.
			this.#logger.debug('request without ack ignored', { event: String(event).slice(0, 64) });
			return;
		}
		if (!this.#takeToken()) {
			this.#deps.observer.safeEmit('limit', 'messagesPerSecond');
			this.#deps.observer.safeEmit('request', isRequestName(event) ? event : 'unknown', 'rate_limited', 0);
			ack({ ok: false, error: toWire(new AppError('rate_limited', `at most ${this.#deps.config.messagesPerSecond} requests a second`)).error });
			return;
		}
		const run = async (): Promise<Ack<unknown>> => {
			const started = process.hrtime.bigint();
			const reply = await this.#answer(event, args);
			const seconds = Number(process.hrtime.bigint() - started) / 1e9;
			this.#deps.observer.safeEmit('request', isRequestName(event) ? event : 'unknown', reply.ok ? undefined : reply.error.code, seconds);
			return reply;
		};
		void this.#queue.run(run).then(ack);
	}

	/**
	 * A token bucket per connection: `messagesPerSecond` tokens a second, up to
	 * twice that in store. NOTE: checked before anything is parsed or queued.
	 */
	#tokens = 0;
	#tokensAt = 0;
	#takeToken(): boolean {
		const rate = this.#deps.config.messagesPerSecond;
		const now = Date.now();
		this.#tokens = this.#tokensAt === 0 ? rate * 2 : Math.min(rate * 2, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
		this.#tokensAt = now;
		if (this.#tokens < 1) {
			return false;
		}
		this.#tokens--;
		return true;
	}

	/** Validates and runs one request; never throws: errors become `{ ok: false, error }`. */
	async #answer(event: string, args: unknown[]): Promise<Ack<unknown>> {
		try {
			if (!isRequestName(event)) {
				throw new NotFoundError('unknown request');
			}
			if (args.length !== 1) {
				throw new ValidationError(`${event}: expected one payload argument`);
			}
			const data = this.#parse(event, args[0]);
			const handler = this.#handlers[event] as (data: unknown) => Promise<unknown>;
			return { ok: true, data: await handler(data) };
		} catch (error) {
			const { status, error: wire } = toWire(error);
			if (status >= 500) {
				this.#logger.error('request failed', { event, error });
			} else {
				this.#logger.debug('request refused', { event: String(event).slice(0, 64), code: wire.code });
			}
			return { ok: false, error: wire };
		}
	}

	#parse(event: RequestName, payload: unknown): unknown {
		const size = payloadSize(payload);
		if (size > this.#deps.config.maxPayloadBytes) {
			throw new AppError('payload_too_large', `${event}: payload of ${size} bytes, at most ${this.#deps.config.maxPayloadBytes}`);
		}
		const result = requests[event].request.safeParse(payload);
		if (!result.success) {
			throw new ValidationError(`${event}: ${describeIssues(result.error)}`);
		}
		return result.data;
	}

	get claims(): Claims {
		return this.#claims;
	}

	/**
	 * Ends this connection for good (its login session ended): the peer it
	 * speaks for leaves at once, with no reconnect grace, and the socket is
	 * closed after `session.ended` tells the client why.
	 */
	end(reason: 'loggedOut' | 'accountDeleted'): void {
		this.#logger.info('connection ended', { reason });
		this.#socket.emit('session.ended', { reason });
		if (this.#room && this.#peer && !this.#peer.closed) {
			this.#room.leave(this.#peer);
		}
		this.#socket.disconnect(true);
	}

	#onDisconnect(reason: string): void {
		this.#logger.debug('socket disconnected', { reason });
		if (this.#claims.sid) {
			this.#deps.presence.remove(this.#claims.sub, this.#device);
			void this.#deps.calls.deviceGone(this.#claims, this.#device);
		}
		if (this.#room && this.#peer && this.#peer.link === this.#link) {
			this.#room.disconnected(this.#peer);
		}
		this.#room = undefined;
		this.#peer = undefined;
	}

	/**
	 * A call's room (`call-...`) only for a current party of the live call, as
	 * the call service says; a link's room (`link-...`) only with a token for
	 * exactly it, and e2ee; any other room as the token's `rooms` grant says;
	 * never with a token the server API removed from the room (RoomService).
	 * NOTE: one refusal for every reason, so it tells nothing about the call.
	 * A call's room is end-to-end encrypted (docs/e2ee.md): a party joins with
	 * `e2ee` and the device it placed or answered the call with.
	 * @returns the party's device, in a call's room
	 * @throws forbidden, e2ee_mismatch, e2ee_unavailable
	 */
	async #assertMayJoin(roomId: string, e2ee: boolean): Promise<PeerIdentity | undefined> {
		await this.#deps.roomService.assertAdmits(roomId, this.#claims, e2ee);
		if (isLinkRoom(roomId)) {
			// NOTE: only a token for exactly this room (a `*` grant never covers it): the link's lobby issues those.
			if (!this.#claims.rooms?.includes(roomId)) {
				throw new AppError('forbidden', 'the token does not grant this room');
			}
			if (!e2ee) {
				throw new AppError('e2ee_mismatch', 'calls through links are end-to-end encrypted: join with e2ee', { details: { e2ee: true } });
			}
			return undefined;
		}
		if (!isCallRoom(roomId)) {
			if (!mayJoinRoom(this.#claims, roomId)) {
				throw new AppError('forbidden', 'the token does not grant this room');
			}
			return undefined;
		}
		const party = await this.#deps.calls.mayJoinRoom(this.#claims, roomId);
		if (!party) {
			throw new AppError('forbidden', 'the token does not grant this room');
		}
		if (!e2ee) {
			throw new AppError('e2ee_mismatch', 'calls between accounts are end-to-end encrypted: join with e2ee', { details: { e2ee: true } });
		}
		if (!party.identity) {
			throw new AppError('e2ee_unavailable', 'this device took the call without an end-to-end encryption key');
		}
		return party.identity;
	}

	/** The connection now speaks for `peer`: the sender keys of its room reach it here. */
	#bind(room: Room, peer: Peer): void {
		if (this.#peer && this.#peer !== peer) {
			void this.#socket.leave(peerRoom(this.#peer.id));
		}
		this.#room = room;
		this.#peer = peer;
		void this.#socket.join(peerRoom(peer.id));
	}

	/** The peer this session speaks for. @throws invalid_state before room.join */
	#joined(): { room: Room; peer: Peer } {
		if (!this.#room || !this.#peer || this.#peer.closed) {
			throw new InvalidStateError('join a room first');
		}
		return { room: this.#room, peer: this.#peer };
	}

	/** How the room reaches this client: its notices as protocol events (wire.ts). */
	readonly #link: PeerLink = {
		notify: (notice) => {
			const [event, data] = serverEvent(notice);
			this.#socket.emit(event, data);
		},
		offer: async (consumer) => {
			const socket = this.#socket.timeout(this.#deps.config.requestTimeoutMs);
			const reply = await socket.emitWithAck('consumer.new', consumerNew(consumer)) as Ack<unknown> | undefined;
			if (!reply || reply.ok !== true) {
				throw new Error('client refused consumer.new');
			}
		},
	};

	#makeHandlers(): Handlers {
		return {
			'media.capabilities': async () => ({ routerRtpCapabilities: this.#deps.routerRtpCapabilities() }),

			'room.join': async ({ roomId, rtpCapabilities, displayName, e2ee }) => {
				const joinStartedAt = Date.now();
				if (this.#peer && !this.#peer.closed) {
					throw new InvalidStateError('already in a room');
				}
				const { registry, placement } = this.#deps;
				// NOTE: a draining node of a fleet still takes joins to the rooms it hosts (they run until they end),
				// and sends those of other rooms to where the fleet puts them.
				if (registry.draining && !placement) {
					throw new AppError('draining');
				}
				const identity = await this.#assertMayJoin(roomId, e2ee ?? false);
				const place = await placement?.place(roomId);
				if (place && !place.here) {
					throw new AppError('room_elsewhere', 'the room is on another node: join it there', { details: { url: place.url, node: place.nodeId } });
				}
				const room = await registry.getOrCreate(roomId, { running: placement !== undefined });
				const peer = await room.join({
					joinStartedAt,
					displayName: this.#claims.name ?? displayName ?? 'Guest',
					e2ee: e2ee ?? false,
					identity,
					claims: this.#claims,
					rtpCapabilities: rtpCapabilities as ms.RtpCapabilities,
					link: this.#link,
				});
				// NOTE: the others as they are now: those who join from now on come as peer.joined events.
				const others = otherPeers(room, peer);
				// NOTE: a call's room access can end (a hang-up) while the peer was
				// being placed, before the room had it to put out: check again.
				try {
					await this.#assertMayJoin(roomId, e2ee ?? false);
				} catch (error) {
					room.leave(peer, 'removed');
					throw error;
				}
				this.#bind(room, peer);
				this.#logger.info('joined', { roomId, peerId: peer.id });
				return {
					peerId: peer.id,
					roomId,
					resumeToken: peer.resumeToken,
					routerRtpCapabilities: this.#deps.routerRtpCapabilities(),
					peers: others,
					transports: [],
					producers: [],
				};
			},

			'room.resume': async ({ resumeToken }) => {
				if (this.#peer && !this.#peer.closed) {
					throw new InvalidStateError('already in a room');
				}
				const found = this.#deps.registry.findByResumeToken(resumeToken);
				// NOTE: a token of another bearer is "not found" too: no oracle for resume tokens.
				if (!found || found.peer.claims.sub !== this.#claims.sub) {
					throw new NotFoundError('no such session to resume');
				}
				const { room, peer } = found;
				room.resumed(peer, this.#link);
				this.#bind(room, peer);
				this.#logger.info('resumed', { roomId: room.id, peerId: peer.id });
				return {
					peerId: peer.id,
					roomId: room.id,
					resumeToken: peer.resumeToken,
					routerRtpCapabilities: this.#deps.routerRtpCapabilities(),
					peers: otherPeers(room, peer),
					transports: [...peer.transports.values()].map((t) => ({ id: t.id, direction: t.appData.direction })),
					producers: peerInfo(peer).producers,
				};
			},

			'room.leave': async () => {
				const { room, peer } = this.#joined();
				room.leave(peer);
				this.#room = undefined;
				this.#peer = undefined;
				return {};
			},

			...mediaHandlers(this.#claims, () => this.#joined()),

			'e2ee.keys': async (request) => {
				const { room, peer } = this.#joined();
				return this.#deps.keys.relay(this.#socket, room, peer, request);
			},
			'chat.send': async (request) => {
				const { room, peer } = this.#joined();
				return this.#deps.chat.send(this.#socket, room, peer, request);
			},
			'hand.set': async ({ raised }) => {
				const { room, peer } = this.#joined();
				peer.controls.handRaised = raised;
				room.exchange.handChanged();
				toOthers(this.#socket, room, peer, 'peer.hand', { peerId: peer.id, raised });
				return {};
			},

			...callHandlers(this.#deps.calls, this.#claims, this.#device),
		};
	}
}

/** The JSON size of a payload (socket.io's maxHttpBufferSize bounds the work). */
function payloadSize(payload: unknown): number {
	try {
		return Buffer.byteLength(JSON.stringify(payload) ?? '');
	} catch {
		return Number.POSITIVE_INFINITY;
	}
}

/** "roomId: expected string; rtpCapabilities.codecs.0.kind: ..." (at most 3 issues). */
function describeIssues(error: z.ZodError): string {
	return error.issues.slice(0, 3).map((issue) => {
		const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
		return `${where}${issue.message.replace(/^Invalid input: /, '')}`;
	}).join('; ');
}
