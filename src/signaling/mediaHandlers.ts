import type { Claims } from '../auth';
import { AppError } from '../errors';
import { fromMediasoupError, type ms } from '../media';
import type { Peer, Room } from '../rooms';
import type { RequestData, RequestName, ResponseData } from './protocol';
import { plainTransportInfo, transportInfo } from './wire';

/**
 * consumer.requestKeyFrame goes to mediasoup at most this often per consumer:
 * a client cannot make a publisher send key frames without end. Those in
 * between are answered and dropped; one key frame serves them all.
 */
export const KEY_FRAME_REQUEST_INTERVAL_MS = 500;

type Handler<N extends RequestName> = (data: RequestData<N>) => Promise<ResponseData<N>>;
/** A handler for every request of the protocol. */
export type Handlers = { [N in RequestName]: Handler<N> };

/** The media requests: transports, producers and consumers of the peer the session speaks for. */
type MediaRequest = Extract<RequestName, `transport.${string}` | `producer.${string}` | `consumer.${string}`>;

/**
 * The handlers of the media requests of one session. `joined` gives the
 * session's room and peer.
 * @throws (from `joined`) invalid_state before room.join
 */
export function mediaHandlers(claims: Claims, joined: () => { room: Room; peer: Peer }): Pick<Handlers, MediaRequest> {
	/** When each consumer's last key-frame request went to mediasoup. */
	const keyFramesAsked = new WeakMap<object, number>();
	return {
		'transport.create': async ({ direction }) => {
			const { room, peer } = joined();
			return transportInfo(await room.createTransport(peer, direction));
		},

		'transport.createPlain': async (request) => {
			// NOTE: the grant is checked first: without it the request says nothing about state.
			if (!claims.loadtest) {
				throw new AppError('forbidden', 'transport.createPlain needs a token with the loadtest grant');
			}
			const { room, peer } = joined();
			return plainTransportInfo(await room.createPlainTransport(peer, request));
		},

		'transport.connect': async ({ transportId, dtlsParameters }) => {
			const { peer } = joined();
			await peer.connectTransport(transportId, dtlsParameters as ms.DtlsParameters);
			return {};
		},

		'transport.restartIce': async ({ transportId }) => {
			const { peer } = joined();
			const iceParameters = await peer.webRtcTransportOf(transportId).restartIce();
			return { iceParameters };
		},

		'transport.close': async ({ transportId }) => {
			const { room, peer } = joined();
			room.closeTransport(peer, transportId);
			return {};
		},

		'producer.create': async ({ transportId, kind, rtpParameters, source, paused }) => {
			const { room, peer } = joined();
			const producer = await room.produce(peer, { transportId, kind, rtpParameters: rtpParameters as ms.RtpParameters, source, paused });
			return { id: producer.id };
		},

		'producer.pause': async ({ producerId }) => {
			const { peer } = joined();
			await mediasoupCall('producer', () => peer.producerOf(producerId).pause());
			return {};
		},

		'producer.resume': async ({ producerId }) => {
			const { peer } = joined();
			const producer = peer.producerOf(producerId);
			peer.controls.assertMayResume(producer.appData.source);
			await mediasoupCall('producer', () => producer.resume());
			return {};
		},

		'producer.close': async ({ producerId }) => {
			const { room, peer } = joined();
			room.closeProducer(peer, producerId);
			return {};
		},

		'consumer.pause': async ({ consumerId }) => {
			const { peer } = joined();
			await mediasoupCall('consumer', () => peer.consumerOf(consumerId).pause());
			return {};
		},

		'consumer.resume': async ({ consumerId }) => {
			const { peer } = joined();
			await mediasoupCall('consumer', () => peer.consumerOf(consumerId).resume());
			return {};
		},

		'consumer.setPreferredLayers': async ({ consumerId, spatialLayer, temporalLayer }) => {
			const { peer } = joined();
			await mediasoupCall('consumer', () => peer.consumerOf(consumerId).setPreferredLayers({ spatialLayer, temporalLayer }));
			// The layers the client asked for itself: the policy never goes above them.
			peer.subscriptions.get(consumerId).policy.setClientMax({ spatialLayer, temporalLayer });
			return {};
		},

		'consumer.setViewport': async ({ consumerId, height, visible }) => {
			const { peer } = joined();
			peer.subscriptions.get(consumerId).policy.setViewport({ height, visible });
			return {};
		},
		'consumer.requestKeyFrame': async ({ consumerId }) => {
			const { peer } = joined();
			const consumer = peer.consumerOf(consumerId);
			const now = Date.now();
			if (consumer.kind === 'video' && now - (keyFramesAsked.get(consumer) ?? -Infinity) >= KEY_FRAME_REQUEST_INTERVAL_MS) {
				keyFramesAsked.set(consumer, now);
				await mediasoupCall('consumer', () => consumer.requestKeyFrame());
			}
			return {};
		},
		'consumer.pin': async ({ consumerId }) => {
			const { peer } = joined();
			peer.subscriptions.get(consumerId).policy.setPinned(true);
			return {};
		},
		'consumer.unpin': async ({ consumerId }) => {
			const { peer } = joined();
			peer.subscriptions.get(consumerId).policy.setPinned(false);
			return {};
		},
	};
}

async function mediasoupCall<T>(what: string, call: () => Promise<T>): Promise<T> {
	try {
		return await call();
	} catch (error) {
		throw fromMediasoupError(error, what);
	}
}
