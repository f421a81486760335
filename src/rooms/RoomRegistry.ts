import { AppError } from '../errors';
import type { Logger } from '../logging';
import type { WorkerPool } from '../media';
import { TypedEmitter } from '../util';
import type { Peer } from './Peer';
import { Room, type CloseReason } from './Room';
import type { RoomSettings } from './RoomSettings';
import type { RoomConfig } from './types';

/** For outside watchers (metrics), and drain(). */
export type RoomRegistryEvents = {
	/** A room was created; before the join that asked for it gets it. */
	roomCreated: [room: Room];
	/** A room closed and the registry forgot it. */
	roomClosed: [room: Room, reason: CloseReason];
};

/**
 * The node's rooms by id. Creating a room is serialised per id, so two peers
 * joining a new room at once get one room;
 * a fleet spans a room over nodes through `attach` (FleetSpans.ts).
 */
export class RoomRegistry {
	readonly observer: TypedEmitter<RoomRegistryEvents>;
	readonly #rooms = new Map<string, Room>();
	readonly #creating = new Map<string, Promise<Room>>();
	readonly #pool: WorkerPool;
	readonly #config: RoomConfig;
	readonly #logger: Logger;
	readonly #attach: ((room: Room) => Promise<void>) | undefined;
	readonly #settings: ((roomId: string) => Promise<RoomSettings | undefined>) | undefined;
	#closed = false;
	#draining = false;

	/**
	 * `attach`: what a fleet does with a room just opened, before its first join gets it (FleetSpans.attach).
	 * `settings`: those of rooms the server API created, which open with their limits.
	 */
	constructor(options: { pool: WorkerPool; config: RoomConfig; logger: Logger; attach?: (room: Room) => Promise<void>; settings?: (roomId: string) => Promise<RoomSettings | undefined> }) {
		this.#pool = options.pool;
		this.#settings = options.settings;
		this.#attach = options.attach;
		this.#config = options.config;
		this.#logger = options.logger;
		this.observer = new TypedEmitter((event, error) => this.#logger.error('registry listener failed', { module: 'rooms', event, error }));
	}

	get size(): number {
		return this.#rooms.size;
	}

	/** Peers in all rooms (connected or within their reconnect grace). */
	get peerCount(): number {
		let count = 0;
		for (const room of this.#rooms.values()) {
			count += room.peers.size;
		}
		return count;
	}

	get(roomId: string): Room | undefined {
		return this.#rooms.get(roomId);
	}

	rooms(): IterableIterator<Room> {
		return this.#rooms.values();
	}

	/**
	 * The open room with this id, created on the least-loaded worker if there
	 * is none. `running`: while draining, an open room is still given (a
	 * fleet's node keeps taking joins to the rooms it hosts); a new one never.
	 */
	async getOrCreate(roomId: string, { running = false } = {}): Promise<Room> {
		const existing = this.#rooms.get(roomId);
		if (this.#closed || (this.#draining && !(running && existing && !existing.closed))) {
			throw new AppError('draining');
		}
		if (existing && !existing.closed) {
			return existing;
		}
		let creating = this.#creating.get(roomId);
		if (!creating && this.#rooms.size + this.#creating.size >= this.#config.rooms.maxRooms) {
			throw new AppError('limit_exceeded', `the node has its ${this.#config.rooms.maxRooms} rooms open`);
		}
		if (!creating) {
			creating = this.#create(roomId).finally(() => this.#creating.delete(roomId));
			this.#creating.set(roomId, creating);
		}
		return creating;
	}

	/** The room and peer a resume token belongs to. */
	findByResumeToken(resumeToken: string): { room: Room; peer: Peer } | undefined {
		for (const room of this.#rooms.values()) {
			for (const peer of room.peers.values()) {
				if (peer.resumeToken === resumeToken) {
					return { room, peer };
				}
			}
		}
		return undefined;
	}

	/** Whether the node is draining: no new peers, running rooms go on. */
	get draining(): boolean {
		return this.#draining;
	}

	/** Stops taking peers; resolves once every room has closed (its peers left). */
	drain(): Promise<void> {
		this.#draining = true;
		// No empty-room grace while draining: nobody may join any more.
		for (const room of [...this.#rooms.values()]) {
			if (room.peers.size === 0) {
				room.close('empty');
			}
		}
		return new Promise((resolve) => {
			const check = () => {
				if (this.#rooms.size === 0) {
					this.observer.off('roomClosed', check);
					resolve();
				}
			};
			this.observer.on('roomClosed', check);
			check();
		});
	}

	/** Closes every room. */
	close(): void {
		this.#closed = true;
		for (const room of [...this.#rooms.values()]) {
			room.close('shutdown');
		}
	}

	async #create(roomId: string): Promise<Room> {
		await this.#pool.waitForWorker(5000);
		const settings = await this.#settings?.(roomId);
		const room = await Room.create({ id: roomId, pool: this.#pool, config: settings ? withSettings(this.#config, settings) : this.#config, logger: this.#logger });
		this.#rooms.set(roomId, room);
		room.events.on('peerLeft', () => {
			if (this.#draining && room.peers.size === 0) {
				room.close('empty');
			}
		});
		room.events.once('closed', (reason) => {
			if (this.#rooms.get(roomId) === room) {
				this.#rooms.delete(roomId);
			}
			this.observer.safeEmit('roomClosed', room, reason);
		});
		this.observer.safeEmit('roomCreated', room);
		await this.#attach?.(room);
		return room;
	}
}

/** The config of a room the server API created: its own cap (never past rooms.maxPeers) and empty timeout. */
function withSettings(config: RoomConfig, settings: RoomSettings): RoomConfig {
	const { maxPeers } = config.rooms;
	return {
		...config,
		rooms: { ...config.rooms, maxPeers: Math.min(settings.maxParticipants ?? maxPeers, maxPeers), emptyCloseGraceMs: settings.emptyTimeoutSeconds * 1000 },
	};
}
