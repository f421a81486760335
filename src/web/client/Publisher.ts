import type { Device, types as msc } from 'mediasoup-client';
import type { ProducerInfo, Source } from '../../signaling/protocol';
import type { FrameCrypto } from './e2ee/FrameCrypto';
import type { Signaling } from './signaling';

/** A track this participant publishes, and its producer while the send transport has one. */
export type LocalTrack = { source: Source; track: MediaStreamTrack; paused: boolean; producer?: msc.Producer };

/** The simulcast encodings of a camera: 1/4, 1/2 and full resolution (of a 720p capture). */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
	{ scaleResolutionDownBy: 4, maxBitrate: 150_000 },
	{ scaleResolutionDownBy: 2, maxBitrate: 500_000 },
	{ scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * The local tracks a session publishes, one per source, and their producers.
 * A track outlives its producer: when the send transport closes its producers
 * go with it, and produceMissing() on the next send transport makes new ones,
 * paused if the track was.
 */
export class Publisher {
	readonly #tracks = new Map<Source, LocalTrack>();

	/**
	 * `send`: the send transport of the moment (a rebuild replaces it).
	 * `e2ee`: every producer's frames are sealed, and video goes as VP8 (the
	 * one codec whose clear prefix the encryption knows).
	 */
	constructor(
		private readonly device: Device,
		private readonly signaling: Signaling,
		private readonly send: () => msc.Transport | undefined,
		private readonly e2ee?: FrameCrypto,
	) {}

	get tracks(): ReadonlyMap<Source, LocalTrack> {
		return this.#tracks;
	}

	/** Holds `track` as `source`'s (`paused`: muted from the start); produceMissing() produces it. */
	add(source: Source, track: MediaStreamTrack, paused = false): void {
		this.#tracks.set(source, { source, track, paused });
	}

	/** Mute / camera off: the producer is paused, not closed; a producer made later starts paused too. */
	async setPaused(source: Source, paused: boolean): Promise<void> {
		const local = this.#tracks.get(source);
		if (!local) {
			return;
		}
		local.paused = paused;
		const producer = local.producer;
		if (!producer || producer.closed) {
			return;
		}
		if (paused) {
			producer.pause();
		} else {
			producer.resume();
		}
		// NOTE: while disconnected this fails; the resume reconciles it.
		await this.signaling.request(paused ? 'producer.pause' : 'producer.resume', { producerId: producer.id }).catch(() => undefined);
	}

	/**
	 * Another device for `source` (the devices panel): `track` takes the old
	 * one's place in its producer (RTCRtpSender.replaceTrack: the same producer
	 * id, no renegotiation, and an end-to-end encrypted sender keeps its
	 * transform), keeps its paused state, and is the track a later
	 * produceMissing() produces. The old track stops. False: no such source.
	 */
	async replaceTrack(source: Source, track: MediaStreamTrack): Promise<boolean> {
		const local = this.#tracks.get(source);
		if (!local) {
			return false;
		}
		const old = local.track;
		local.track = track;
		const producer = local.producer;
		if (producer && !producer.closed) {
			await producer.replaceTrack({ track });
		}
		if (old !== track) {
			old.stop();
		}
		return true;
	}

	/** Stops publishing a source: its track stops, its producer closes, and the source is forgotten. */
	async remove(source: Source): Promise<void> {
		const local = this.#tracks.get(source);
		this.#tracks.delete(source);
		local?.track.stop();
		if (local?.producer && !local.producer.closed) {
			local.producer.close();
			await this.signaling.request('producer.close', { producerId: local.producer.id }).catch(() => undefined);
		}
	}

	/** The server closed a producer (the service no longer permits publishing): its track waits for produceMissing(). */
	dropped(producerId: string): void {
		const local = [...this.#tracks.values()].find((l) => l.producer?.id === producerId);
		if (local?.producer) {
			local.producer.close();
			local.producer = undefined;
		}
	}

	/** Produces each track that has no producer, on the send transport of the moment. */
	async produceMissing(): Promise<void> {
		for (const local of this.#tracks.values()) {
			const transport = this.send();
			if (!local.producer && transport && !transport.closed) {
				await this.#produce(transport, local);
			}
		}
	}

	/** Every track has an open producer that the server still has (`onServer`: its producers by id). */
	producingOn(onServer: ReadonlyMap<string, ProducerInfo>): boolean {
		return [...this.#tracks.values()].every((l) => l.producer && !l.producer.closed && onServer.has(l.producer.id));
	}

	/** Mute and camera changes made while away: the server's producers (`onServer`) take each track's paused state. */
	async syncPaused(onServer: ReadonlyMap<string, ProducerInfo>): Promise<void> {
		for (const local of this.#tracks.values()) {
			if (local.producer && onServer.get(local.producer.id)?.paused !== local.paused) {
				await this.signaling.request(local.paused ? 'producer.pause' : 'producer.resume', { producerId: local.producer.id });
			}
		}
	}

	/**
	 * Dynacast: the server says which simulcast encodings anybody receives;
	 * the others stop here (RTCRtpEncodingParameters.active). The server only
	 * ever turns off encodings above the highest one needed, which is what
	 * mediasoup-client's setMaxSpatialLayer does.
	 */
	async setEncodings(producerId: string, active: boolean[]): Promise<void> {
		const producer = [...this.#tracks.values()].find((l) => l.producer?.id === producerId)?.producer;
		if (!producer || producer.closed) {
			return;
		}
		try {
			await producer.setMaxSpatialLayer(Math.max(0, active.lastIndexOf(true)));
		} catch (error) {
			console.warn('switchyard: could not change the encodings sent', error);
		}
	}

	/** Stops every local track (the producers close with the send transport); idempotent. */
	close(): void {
		for (const { track } of this.#tracks.values()) {
			track.stop();
		}
	}

	async #produce(transport: msc.Transport, local: LocalTrack): Promise<void> {
		const kind = local.track.kind as 'audio' | 'video';
		if (!this.device.canProduce(kind) || local.track.readyState === 'ended') {
			return;
		}
		const options: msc.ProducerOptions = { track: local.track, stopTracks: false, appData: { source: local.source, paused: local.paused } };
		const vp8 = this.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
		if (this.e2ee) {
			if (kind === 'video' && !vp8) {
				throw new Error('this browser cannot send VP8, the one video codec of end-to-end encrypted calls');
			}
			// NOTE: called before the transceiver negotiates: no frame is encoded without the transform.
			options.onRtpSender = this.e2ee.sender(kind);
			options.codec = kind === 'video' ? vp8 : undefined;
		}
		if (local.source === 'camera') {
			options.encodings = CAMERA_ENCODINGS;
			options.codecOptions = { videoGoogleStartBitrate: 1000 };
			options.codec = vp8;
		} else if (local.source === 'mic') {
			options.codecOptions = { opusFec: true, opusDtx: true, opusStereo: false };
		} else if (local.source === 'screen') {
			// Screen share favours resolution over frame rate.
			local.track.contentHint = 'detail';
		}
		const producer = await transport.produce(options);
		local.producer = producer;
		// NOTE: the device was switched while this producer was being made.
		if (producer.track !== local.track) {
			await producer.replaceTrack({ track: local.track });
		}
		// NOTE: the send transport closing closes its producers; a track whose
		// producer went that way is produced again by the next produceMissing().
		producer.on('transportclose', () => {
			if (local.producer === producer) {
				local.producer = undefined;
			}
		});
		if (local.paused) {
			// The server made it paused already (producer.create with paused); this stops the track locally.
			producer.pause();
		}
	}
}
