import { Device, type types as msc } from 'mediasoup-client';
import type { PeerInfo, ServerEventData, Source } from '../../signaling/protocol';
import type { Signaling } from './signaling';

export type SessionState = 'connecting' | 'connected' | 'reconnecting' | 'left' | 'failed';

export type RemoteTrack = { consumerId: string; peerId: string; kind: 'audio' | 'video'; source: Source; track: MediaStreamTrack; ssrc: number };

/** What the UI hears from the session. */
export type SessionListener = {
	state(state: SessionState, detail?: string): void;
	/** The other participants as the server has them (after join and after a resume). */
	roster(peers: PeerInfo[]): void;
	peerJoined(peer: PeerInfo): void;
	peerLeft(peerId: string): void;
	trackAdded(track: RemoteTrack): void;
	trackRemoved(consumerId: string): void;
	activeSpeaker(peerId: string | null): void;
};

/** The simulcast encodings of a camera: 1/4, 1/2 and full resolution. */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
	{ scaleResolutionDownBy: 4, maxBitrate: 150_000 },
	{ scaleResolutionDownBy: 2, maxBitrate: 500_000 },
	{ scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

type LocalTrack = { source: Source; track: MediaStreamTrack; producer?: msc.Producer };

/**
 * One participant's side of a room: a mediasoup-client Device, a send and a
 * receive transport, the local tracks it publishes and the remote tracks it
 * consumes. It rebuilds itself without a page reload: after a dropped
 * connection (room.resume, then ICE restart on the transports the server
 * kept, or new transports and re-produced tracks) and after session.reconnect
 * (new transports on the server's new router).
 */
export class CallSession {
	readonly device = new Device();
	peerId = '';
	readonly consumers = new Map<string, { consumer: msc.Consumer; peerId: string; source: Source }>();
	readonly local = new Map<Source, LocalTrack>();

	#send?: msc.Transport;
	#recv?: msc.Transport;
	#resumeToken = '';
	#left = false;
	#rebuilding?: Promise<void>;

	constructor(
		private readonly signaling: Signaling,
		private readonly roomId: string,
		private readonly displayName: string,
		private readonly listener: SessionListener,
	) {
		signaling.onConsumerNew((data) => this.#consume(data));
		signaling.on('consumer.closed', ({ consumerId }) => this.#dropConsumer(consumerId));
		signaling.on('consumer.paused', ({ consumerId }) => this.consumers.get(consumerId)?.consumer.pause());
		signaling.on('consumer.resumed', ({ consumerId }) => this.consumers.get(consumerId)?.consumer.resume());
		signaling.on('peer.joined', ({ peer }) => listener.peerJoined(peer));
		signaling.on('peer.left', ({ peerId }) => listener.peerLeft(peerId));
		signaling.on('room.activeSpeaker', ({ peerId }) => listener.activeSpeaker(peerId));
		signaling.on('session.reconnect', () => void this.#rebuild('new'));
		signaling.socket.on('disconnect', () => {
			if (!this.#left) {
				listener.state('reconnecting');
			}
		});
		signaling.socket.io.on('reconnect', () => void this.#resume());
	}

	get sendTransport(): msc.Transport | undefined {
		return this.#send;
	}

	get recvTransport(): msc.Transport | undefined {
		return this.#recv;
	}

	/** Loads the device, joins, and publishes `tracks`. */
	async join(tracks: { source: Source; track: MediaStreamTrack }[]): Promise<void> {
		const { routerRtpCapabilities } = await this.signaling.request('media.capabilities', {});
		await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
		const joined = await this.signaling.request('room.join', {
			roomId: this.roomId,
			rtpCapabilities: this.device.rtpCapabilities as never,
			displayName: this.displayName,
		});
		this.peerId = joined.peerId;
		this.#resumeToken = joined.resumeToken;
		this.listener.roster(joined.peers);
		for (const { source, track } of tracks) {
			this.local.set(source, { source, track });
		}
		await this.#buildTransports();
		this.listener.state('connected');
	}

	/** Starts or stops sending a source (mute, camera off): the producer is paused, not closed. */
	async setPaused(source: Source, paused: boolean): Promise<void> {
		const producer = this.local.get(source)?.producer;
		if (!producer) {
			return;
		}
		if (paused) {
			producer.pause();
			await this.signaling.request('producer.pause', { producerId: producer.id });
		} else {
			producer.resume();
			await this.signaling.request('producer.resume', { producerId: producer.id });
		}
	}

	/** Publishes another track (screen share). */
	async publish(source: Source, track: MediaStreamTrack): Promise<void> {
		const local: LocalTrack = { source, track };
		this.local.set(source, local);
		if (this.#send) {
			await this.#produce(this.#send, local);
		}
	}

	/** Stops publishing a source and forgets its track. */
	async unpublish(source: Source): Promise<void> {
		const local = this.local.get(source);
		this.local.delete(source);
		if (local?.producer && !local.producer.closed) {
			local.producer.close();
			await this.signaling.request('producer.close', { producerId: local.producer.id }).catch(() => undefined);
		}
		local?.track.stop();
	}

	async leave(): Promise<void> {
		this.#left = true;
		await this.signaling.request('room.leave', {}).catch(() => undefined);
		this.#closeTransports();
		for (const { track } of this.local.values()) {
			track.stop();
		}
		this.signaling.close();
		this.listener.state('left');
	}

	/** For tests and the UI: what a lost network looks like (socket and transports gone). */
	dropConnection(): void {
		this.#closeTransports();
		this.signaling.socket.io.engine.close();
	}

	/** After socket.io reconnected: take this peer back, then mend or rebuild the transports. */
	async #resume(): Promise<void> {
		if (this.#left) {
			return;
		}
		try {
			const resumed = await this.signaling.request('room.resume', { resumeToken: this.#resumeToken });
			this.listener.roster(resumed.peers);
			const kept = new Set(resumed.transports.map((t) => t.id));
			const alive = [this.#send, this.#recv].every((t) => t && !t.closed && kept.has(t.id) && t.connectionState !== 'failed');
			if (alive) {
				for (const transport of [this.#send!, this.#recv!]) {
					const { iceParameters } = await this.signaling.request('transport.restartIce', { transportId: transport.id });
					await transport.restartIce({ iceParameters: iceParameters as msc.IceParameters });
				}
				this.listener.state('connected');
			} else {
				await this.#rebuild('resume', resumed.transports.map((t) => t.id));
			}
		} catch (error) {
			// The grace period passed (the server forgot us): join afresh.
			this.listener.state('failed', (error as Error).message);
		}
	}

	/**
	 * New transports and producers. After a resume, the server's kept
	 * transports are closed first; after session.reconnect they are gone already.
	 */
	#rebuild(why: 'new' | 'resume', stale: string[] = []): Promise<void> {
		this.#rebuilding ??= (async () => {
			this.listener.state('reconnecting');
			for (const transportId of stale) {
				await this.signaling.request('transport.close', { transportId }).catch(() => undefined);
			}
			this.#closeTransports();
			await this.#buildTransports();
			this.listener.state('connected', why);
		})().finally(() => {
			this.#rebuilding = undefined;
		});
		return this.#rebuilding;
	}

	async #buildTransports(): Promise<void> {
		this.#recv = await this.#createTransport('recv');
		this.#send = await this.#createTransport('send');
		for (const local of this.local.values()) {
			await this.#produce(this.#send, local);
		}
	}

	#closeTransports(): void {
		for (const { consumer } of this.consumers.values()) {
			this.listener.trackRemoved(consumer.id);
		}
		this.consumers.clear();
		this.#send?.close();
		this.#recv?.close();
		this.#send = undefined;
		this.#recv = undefined;
		for (const local of this.local.values()) {
			local.producer = undefined;
		}
	}

	async #createTransport(direction: 'send' | 'recv'): Promise<msc.Transport> {
		const info = await this.signaling.request('transport.create', { direction });
		const options: msc.TransportOptions = {
			id: info.id,
			iceParameters: info.iceParameters as msc.IceParameters,
			iceCandidates: info.iceCandidates as msc.IceCandidate[],
			dtlsParameters: info.dtlsParameters as msc.DtlsParameters,
			iceServers: info.iceServers as RTCIceServer[],
			iceTransportPolicy: info.iceTransportPolicy,
		};
		const transport = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
		transport.on('connect', ({ dtlsParameters }, callback, errback) => {
			this.signaling.request('transport.connect', { transportId: transport.id, dtlsParameters: dtlsParameters as never }).then(() => callback(), errback);
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			this.signaling.request('producer.create', {
				transportId: transport.id, kind, rtpParameters: rtpParameters as never, source: appData.source as Source,
			}).then(({ id }) => callback({ id }), errback);
		});
		transport.on('connectionstatechange', (state) => {
			if (state === 'failed' && !this.#left && this.signaling.socket.connected) {
				void this.#rebuild('new');
			}
		});
		return transport;
	}

	async #produce(transport: msc.Transport, local: LocalTrack): Promise<void> {
		const options: msc.ProducerOptions = { track: local.track, stopTracks: false, appData: { source: local.source } };
		if (local.source === 'camera') {
			options.encodings = CAMERA_ENCODINGS;
			options.codecOptions = { videoGoogleStartBitrate: 1000 };
			const vp8 = this.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
			if (vp8) {
				options.codec = vp8;
			}
		} else if (local.source === 'mic') {
			options.codecOptions = { opusFec: true, opusDtx: true, opusStereo: false };
		} else if (local.source === 'screen') {
			// Screen share favours resolution over frame rate.
			local.track.contentHint = 'detail';
		}
		local.producer = await transport.produce(options);
	}

	async #consume(data: ServerEventData<'consumer.new'>): Promise<void> {
		// NOTE: a consumer.new can arrive while the receive transport is being rebuilt.
		await this.#rebuilding;
		const transport = this.#recv;
		if (!transport || transport.closed) {
			throw new Error('no receive transport');
		}
		const consumer = await transport.consume({
			id: data.consumerId,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters as msc.RtpParameters,
		});
		this.consumers.set(consumer.id, { consumer, peerId: data.peerId, source: data.source });
		this.listener.trackAdded({
			consumerId: consumer.id,
			peerId: data.peerId,
			kind: data.kind,
			source: data.source,
			track: consumer.track,
			ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
		});
	}

	#dropConsumer(consumerId: string): void {
		const entry = this.consumers.get(consumerId);
		if (entry) {
			entry.consumer.close();
			this.consumers.delete(consumerId);
			this.listener.trackRemoved(consumerId);
		}
	}
}
