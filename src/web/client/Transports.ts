import type { Device, types as msc } from 'mediasoup-client';
import type { Source } from '../../signaling/protocol';
import type { Signaling } from './signaling';

/**
 * A session's send and receive transports: made on the server with
 * transport.create, mirrored here by the Device, opened together and closed
 * together. Closing a transport closes its producers and consumers
 * (mediasoup-client does); each tells its owner (Publisher, Subscriber) with
 * `transportclose`, and the owner forgets it.
 */
export class Transports {
	#send?: msc.Transport;
	#recv?: msc.Transport;

	/** `onState`: a connection state change of a transport held now (never of one closed since). */
	constructor(
		private readonly device: Device,
		private readonly signaling: Signaling,
		private readonly onState: (state: RTCPeerConnectionState) => void,
	) {}

	get send(): msc.Transport | undefined {
		return this.#send;
	}

	get recv(): msc.Transport | undefined {
		return this.#recv;
	}

	/** The ids of the transports held now (send, then receive). */
	get ids(): string[] {
		return [this.#send?.id, this.#recv?.id].filter((id): id is string => Boolean(id));
	}

	/** Makes the receive transport, then the send transport. */
	async open(): Promise<void> {
		this.#recv = await this.#create('recv');
		this.#send = await this.#create('send');
	}

	/** Both transports are open here, the server kept them (`kept`: the ids it has) and neither one's ICE failed. */
	keptBy(kept: ReadonlySet<string>): boolean {
		return [this.#send, this.#recv].every((t) => t && !t.closed && kept.has(t.id) && t.connectionState !== 'failed');
	}

	/** An ICE restart of both transports, with ICE parameters the server makes anew. */
	async restartIce(): Promise<void> {
		for (const transport of [this.#send, this.#recv]) {
			if (!transport) {
				throw new Error('no transport to restart');
			}
			const { iceParameters } = await this.signaling.request('transport.restartIce', { transportId: transport.id });
			await transport.restartIce({ iceParameters: iceParameters as msc.IceParameters });
		}
	}

	/** Closes the server's copies of transports this side no longer uses. */
	async closeOnServer(transportIds: Iterable<string>): Promise<void> {
		// NOTE: after session.reconnect the server already lost them: not_found is expected.
		for (const transportId of transportIds) {
			await this.signaling.request('transport.close', { transportId }).catch(() => undefined);
		}
	}

	/** Closes both transports here, and with them every producer and consumer; idempotent. */
	close(): void {
		this.#send?.close();
		this.#recv?.close();
		this.#send = undefined;
		this.#recv = undefined;
	}

	async #create(direction: 'send' | 'recv'): Promise<msc.Transport> {
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
			this.signaling.request('transport.connect', { transportId: transport.id, dtlsParameters: dtlsParameters as never })
				.then(() => callback(), errback);
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			this.signaling.request('producer.create', {
				transportId: transport.id, kind, rtpParameters: rtpParameters as never, source: appData.source as Source, paused: appData.paused === true,
			}).then(({ id }) => callback({ id }), errback);
		});
		transport.on('connectionstatechange', (state) => {
			if (transport === this.#send || transport === this.#recv) {
				this.onState(state);
			}
		});
		return transport;
	}
}
