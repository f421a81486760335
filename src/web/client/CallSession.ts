import { Device, type types as msc } from 'mediasoup-client';
import type { PeerInfo, ResponseData, ServerEventData, Source } from '../../signaling/protocol';
import type { FrameCrypto } from './e2ee/FrameCrypto';
import type { Recovery, SessionState } from './hookTypes';
import { Mender } from './Mender';
import { Publisher, type LocalTrack } from './Publisher';
import { RequestError, type Signaling } from './signaling';
import { Subscriber, type RemoteConsumer, type TrackListener } from './Subscriber';
import { Transports } from './Transports';

export type { SessionState } from './hookTypes';

/** What the UI hears from the session. */
export type SessionListener = TrackListener & {
	state(state: SessionState, detail?: string): void;
	/** This participant's peer id: after room.join, and again after a rejoin (the old peer was forgotten). */
	joined(peerId: string): void;
	/** The other participants as the server has them (after join and after a resume). */
	roster(peers: PeerInfo[]): void;
	peerJoined(peer: PeerInfo): void;
	peerLeft(peerId: string): void;
	activeSpeaker(peerId: string | null): void;
	recovered(recovery: Recovery): void;
	/** The server put this participant out of a call's room (room.removed); the session is over and closed. */
	removed(reason: ServerEventData<'room.removed'>['reason']): void;
};

/**
 * One participant's side of a room: a mediasoup-client Device, the
 * transports (Transports), the local tracks it publishes (Publisher) and the
 * remote tracks it consumes (Subscriber). This class holds the membership
 * (join, resume, leave) and answers the server's events. It mends itself
 * without a page reload, one recovery at a time (Mender):
 * - socket.io reconnected: room.resume; ICE restart on the transports the
 *   server kept, or (local transports dead) close them and build new ones
 *   and re-produce; a grace period that ran out means a fresh room.join;
 * - session.reconnect (the server lost the peer's router): new transports,
 *   re-produce;
 * - a transport whose ICE failed while signaling is up: new transports.
 */
export class CallSession {
	readonly device = new Device();

	readonly #transports: Transports;
	readonly #publisher: Publisher;
	readonly #subscriber: Subscriber;
	readonly #mender: Mender;
	#peerId = '';
	#resumeToken = '';
	/** The socket id of the connection that holds this peer on the server (room.join or room.resume done on it). */
	#boundTo: string | undefined;
	#joined = false;
	#left = false;
	/** The connection is moving to the node that hosts the room (room_elsewhere): its connect is not a reconnection. */
	#moving = false;
	/**
	 * peer.joined / peer.left that came while a room.join or room.resume was unanswered: newer than the
	 * answer's roster (the peers as they were when this one joined), so told after it, not wiped by it.
	 */
	#held: (() => void)[] | undefined;

	/** `e2ee`: the room is end-to-end encrypted; every local and remote track goes through it. */
	constructor(
		private readonly signaling: Signaling,
		private readonly roomId: string,
		private readonly displayName: string,
		private readonly listener: SessionListener,
		private readonly e2ee?: FrameCrypto,
	) {
		this.#transports = new Transports(this.device, signaling, (state) => this.#onTransportState(state));
		this.#publisher = new Publisher(this.device, signaling, () => this.#transports.send, e2ee);
		this.#subscriber = new Subscriber(() => this.#transports.recv, listener, e2ee);
		this.#mender = new Mender(() => signaling.connected, (state, detail) => listener.state(state, detail));
		this.#listen();
	}

	/** This participant's peer id ('' before room.join; a rejoin changes it). */
	get peerId(): string {
		return this.#peerId;
	}

	get sendTransport(): msc.Transport | undefined {
		return this.#transports.send;
	}

	get recvTransport(): msc.Transport | undefined {
		return this.#transports.recv;
	}

	/** The tracks this participant publishes, by source. */
	get local(): ReadonlyMap<Source, LocalTrack> {
		return this.#publisher.tracks;
	}

	/** The remote tracks consumed, by consumer id. */
	get consumers(): ReadonlyMap<string, RemoteConsumer> {
		return this.#subscriber.consumers;
	}

	/** Loads the device, joins, and publishes `tracks` (`paused`: its producer starts paused, muted from the start). */
	async join(tracks: { source: Source; track: MediaStreamTrack; paused?: boolean }[]): Promise<void> {
		const { routerRtpCapabilities } = await this.signaling.request('media.capabilities', {});
		await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
		for (const { source, track, paused } of tracks) {
			this.#publisher.add(source, track, paused);
		}
		await this.#join();
	}

	/** Mute / camera off: the producer is paused, not closed; a producer made later starts paused too. */
	async setPaused(source: Source, paused: boolean): Promise<void> {
		await this.#publisher.setPaused(source, paused);
	}

	/** Publishes another track (screen share). */
	async publish(source: Source, track: MediaStreamTrack): Promise<void> {
		this.#publisher.add(source, track);
		if (this.#mender.busy) {
			// NOTE: a rebuild may have passed this source already; produce it after.
			this.#mender.mend(() => this.#publisher.produceMissing());
			return;
		}
		await this.#publisher.produceMissing();
	}

	/** Another device for `source`: the same producer sends `track` (Publisher.replaceTrack); false if `source` is not published. */
	async replaceTrack(source: Source, track: MediaStreamTrack): Promise<boolean> {
		return this.#publisher.replaceTrack(source, track);
	}

	/** Stops publishing a source and forgets its track. */
	async unpublish(source: Source): Promise<void> {
		await this.#publisher.remove(source);
	}

	/** How a remote video is shown (its tile's size and visibility), for the server's layer policy. */
	async setViewport(viewport: { consumerId: string; width: number; height: number; visible: boolean }): Promise<void> {
		await this.signaling.request('consumer.setViewport', viewport);
	}

	/** Whether the session's frames are end-to-end encrypted. */
	get encrypted(): boolean {
		return this.e2ee !== undefined;
	}

	/**
	 * Asks the senders of these video consumers (all, by default) for a key
	 * frame: after a key change, or a receiver that decrypts again, so the
	 * picture comes back at once rather than at the next periodic key frame.
	 */
	async requestKeyFrames(consumerIds?: string[]): Promise<void> {
		const video = [...this.#subscriber.consumers.values()].filter(({ consumer }) => consumer.kind === 'video' && (!consumerIds || consumerIds.includes(consumer.id)));
		await Promise.all(video.map(({ consumer }) => this.signaling.request('consumer.requestKeyFrame', { consumerId: consumer.id }).catch(() => undefined)));
	}

	/** A pinned tile gets its best layer whatever the room's size. */
	async setPinned(consumerId: string, pinned: boolean): Promise<void> {
		await this.signaling.request(pinned ? 'consumer.pin' : 'consumer.unpin', { consumerId });
	}

	/** Leaves the room (unless the server already put this peer out) and closes everything. */
	async leave(): Promise<void> {
		if (!this.#left) {
			this.#stop();
			await this.signaling.request('room.leave', {}).catch(() => undefined);
		}
		this.#finish();
		this.listener.state('left');
	}

	/** What a lost network looks like: the socket is cut and, unless `keepTransports`, the transports are closed too. */
	dropConnection({ keepTransports = false } = {}): void {
		if (!keepTransports) {
			this.#transports.close();
		}
		this.signaling.socket.io.engine.close();
	}

	#listen(): void {
		const { signaling, listener } = this;
		signaling.onConsumerNew(async (data) => {
			// NOTE: a consumer.new can arrive while the transports are being rebuilt;
			// the consumer may then belong to a transport about to close.
			await this.#mender.idle();
			await this.#subscriber.consume(data);
		});
		signaling.on('consumer.closed', ({ consumerId }) => this.#subscriber.drop(consumerId));
		signaling.on('consumer.paused', ({ consumerId }) => this.#subscriber.setPaused(consumerId, true));
		signaling.on('consumer.resumed', ({ consumerId }) => this.#subscriber.setPaused(consumerId, false));
		signaling.on('peer.joined', ({ peer }) => this.#peerEvent(() => listener.peerJoined(peer)));
		signaling.on('peer.left', ({ peerId }) => this.#peerEvent(() => listener.peerLeft(peerId)));
		signaling.on('room.activeSpeaker', ({ peerId }) => listener.activeSpeaker(peerId));
		signaling.on('session.reconnect', ({ reason }) => this.#mender.mend(() => (reason === 'roomMoved' ? this.#moveRoom() : this.#rebuild(reason))));
		signaling.on('producer.encodings', ({ producerId, active }) => void this.#publisher.setEncodings(producerId, active));
		// The service took away, or gave back, the permission to publish: the tracks are produced again here.
		signaling.on('producer.closed', ({ producerId }) => this.#publisher.dropped(producerId));
		signaling.on('room.permissions', ({ canPublish }) => canPublish && void this.#mender.idle().then(() => this.#publisher.produceMissing()).catch(() => undefined));
		signaling.on('session.ended', ({ reason }) => {
			this.#stop();
			this.#transports.close();
			listener.state('failed', reason === 'accountDeleted' ? 'the account was deleted' : 'you were signed out');
		});
		signaling.on('room.removed', ({ reason }) => this.#removed(reason));
		signaling.onSocket('disconnect', () => {
			if (!this.#left && !this.#moving) {
				listener.state('reconnecting', 'signaling connection lost');
			}
		});
		// NOTE: the socket's connect (not the manager's reconnect, which fires
		// before the socket is usable) marks each reconnection; not a move this session made itself.
		signaling.onSocket('connect', () => {
			if (this.#joined && !this.#left && !this.#moving) {
				this.#mender.mend(() => this.#resume());
			}
		});
	}

	/** The session is over: nothing reconnects, resumes or retries after this. */
	#stop(): void {
		this.#left = true;
		this.#mender.close();
	}

	/**
	 * Put out of a call's room. NOTE: final: the room will not take this peer
	 * back, so the connection closes too, and nothing reconnects or resumes.
	 */
	#removed(reason: ServerEventData<'room.removed'>['reason']): void {
		if (this.#left) {
			return;
		}
		this.#stop();
		this.#finish();
		this.listener.state('left', reason === 'hangup' ? 'you hung up' : 'the call ended');
		this.listener.removed(reason);
	}

	/** The transports, the local tracks, the encryption worker and the connection close. */
	#finish(): void {
		this.#transports.close();
		this.#publisher.close();
		this.e2ee?.close();
		this.signaling.close();
	}

	async #join(): Promise<void> {
		const joined = await this.#joinWherever();
		this.#peerId = joined.peerId;
		this.#resumeToken = joined.resumeToken;
		this.#boundTo = this.signaling.socket.id;
		this.listener.joined(joined.peerId);
		this.#roster(joined.peers);
		await this.#openMedia();
		this.#joined = true;
		this.listener.state('connected');
	}

	/**
	 * room.join, on the node that hosts the room: a node of a fleet that does
	 * not answers `room_elsewhere` with the one that does, and the connection
	 * moves there (at most a few hops: the fleet may be placing it anew).
	 */
	async #joinWherever(): Promise<ResponseData<'room.join'>> {
		const request = { roomId: this.roomId, rtpCapabilities: this.device.rtpCapabilities as never, displayName: this.displayName, e2ee: this.encrypted };
		for (let hop = 0; ; hop++) {
			try {
				return await this.#holdingPeerEvents(() => this.signaling.request('room.join', request));
			} catch (error) {
				const url = error instanceof RequestError && error.code === 'room_elsewhere' ? error.details?.url : undefined;
				if (typeof url !== 'string' || hop >= 3) {
					throw error;
				}
				this.#moving = true;
				try {
					await this.signaling.moveTo(url);
				} finally {
					this.#moving = false;
				}
			}
		}
	}

	/** `request` (room.join, room.resume) with the peer events that come before its answer held back; a failed one drops them. */
	async #holdingPeerEvents<T>(request: () => Promise<T>): Promise<T> {
		this.#held = [];
		try {
			return await request();
		} catch (error) {
			this.#held = undefined;
			throw error;
		}
	}

	#peerEvent(tell: () => void): void {
		if (this.#held) {
			this.#held.push(tell);
		} else {
			tell();
		}
	}

	/** An answer's roster, then the peer events held back while it was on its way. */
	#roster(peers: PeerInfo[]): void {
		const held = this.#held ?? [];
		this.#held = undefined;
		this.listener.roster(peers);
		held.forEach((tell) => tell());
	}

	/** The node hosting the room is going away (a drain that ran out of time): leave it, and join where the fleet puts the room now. */
	async #moveRoom(): Promise<void> {
		this.listener.state('reconnecting', 'the room is moving');
		await this.signaling.request('room.leave', {}).catch(() => undefined);
		await this.#rejoin();
	}

	/** After socket.io reconnected: take this peer back, then mend or rebuild the transports. */
	async #resume(): Promise<void> {
		if (this.#left) {
			return;
		}
		this.listener.state('reconnecting', 'resuming');
		if (this.#boundTo === this.signaling.socket.id) {
			// NOTE: a retry: an earlier attempt on this connection took the peer back
			// (room.resume again would be refused); only the media is left to mend.
			await this.#rebuild('resume');
			return;
		}
		let resumed: ResponseData<'room.resume'>;
		try {
			resumed = await this.#holdingPeerEvents(() => this.signaling.request('room.resume', { resumeToken: this.#resumeToken }));
		} catch (error) {
			if (error instanceof RequestError && error.code === 'not_found') {
				await this.#rejoin();
				return;
			}
			throw error;
		}
		this.#boundTo = this.signaling.socket.id;
		this.#roster(resumed.peers);
		this.#subscriber.reconcile(resumed.peers);
		const kept = new Set(resumed.transports.map((t) => t.id));
		const onServer = new Map(resumed.producers.map((p) => [p.id, p]));
		if (!this.#transports.keptBy(kept) || !this.#publisher.producingOn(onServer)) {
			await this.#rebuild('resume', [...kept]);
			return;
		}
		await this.#transports.restartIce();
		await this.#publisher.syncPaused(onServer);
		this.listener.recovered({ how: 'restartIce', why: 'resume', at: Date.now() });
		this.listener.state('connected');
	}

	/** The grace period ran out and the server forgot this peer: join afresh. */
	async #rejoin(): Promise<void> {
		this.#transports.close();
		try {
			await this.#join();
		} catch (joinError) {
			// NOTE: the token opens the room no more: a call's room, whose end
			// (and room.removed) came while this was away. Retrying cannot help.
			if (joinError instanceof RequestError && joinError.code === 'forbidden') {
				this.#removed('callEnded');
				return;
			}
			throw joinError;
		}
		this.listener.recovered({ how: 'rejoin', why: 'grace expired', at: Date.now() });
	}

	/** New transports and producers; the server's copies of the old transports (`stale` and ours) are closed first. */
	async #rebuild(why: string, stale: string[] = []): Promise<void> {
		this.listener.state('reconnecting', why);
		const ids = new Set([...stale, ...this.#transports.ids]);
		this.#transports.close();
		await this.#transports.closeOnServer(ids);
		await this.#openMedia();
		this.listener.recovered({ how: 'newTransports', why, at: Date.now() });
		this.listener.state('connected');
	}

	/** New transports, and a producer for each local track. */
	async #openMedia(): Promise<void> {
		await this.#transports.open();
		await this.#publisher.produceMissing();
	}

	#onTransportState(state: RTCPeerConnectionState): void {
		if (this.#left || !this.signaling.connected || this.#mender.busy) {
			return;
		}
		if (state === 'failed') {
			this.#mender.mend(() => this.#rebuild('media failed'));
		} else if (state === 'disconnected') {
			this.listener.state('reconnecting', 'media interrupted');
		} else if (state === 'connected') {
			this.listener.state('connected');
		}
	}
}
