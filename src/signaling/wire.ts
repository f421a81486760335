import type { CallNotificationName, CallNotifications } from '../calls';
import type { ms } from '../media';
import type { ConsumerAppData, PeerNotice, PeerView, ProducerView, Room, TransportAppData, WebRtcTransportOffer } from '../rooms';
import type { PeerInfo, ProducerInfo, ResponseData, ServerEventData, ServerEventName, TransportInfo } from './protocol';

/**
 * The one place the domain's objects become the protocol's wire types
 * (protocol.ts): what a client is told of peers, producers, transports and
 * consumers, which server event carries each of the room's notices, and
 * which carries each of the calls' notifications.
 */

/** A server event and its data, as socket.io sends them. */
export type ServerEvent = { [N in ServerEventName]: [event: N, data: ServerEventData<N>] }[ServerEventName];

export function producerInfo(producer: ProducerView): ProducerInfo {
	return { id: producer.id, peerId: producer.appData.peerId, kind: producer.kind, source: producer.appData.source, paused: producer.paused };
}

export function peerInfo(peer: PeerView): PeerInfo {
	return {
		id: peer.id,
		displayName: peer.displayName,
		handle: peer.handle,
		...(peer.verified ? { verified: true } : {}),
		e2ee: peer.e2ee,
		...(peer.identity ? { identity: { deviceId: peer.identity.deviceId, key: peer.identity.key } } : {}),
		...(peer.metadata === undefined ? {} : { metadata: peer.metadata }),
		...(peer.handRaised ? { handRaised: true } : {}),
		producers: [...peer.producers.values()].map(producerInfo),
	};
}

/** Everyone in the room but `peer`. */
export function otherPeers(room: Room, peer: PeerView): PeerInfo[] {
	return [...room.exchange.everyone()].filter((p) => p.id !== peer.id).map(peerInfo);
}

export function transportInfo({ transport, iceServers, iceTransportPolicy }: WebRtcTransportOffer): TransportInfo {
	return {
		id: transport.id,
		direction: transport.appData.direction,
		iceParameters: transport.iceParameters,
		iceCandidates: transport.iceCandidates,
		dtlsParameters: transport.dtlsParameters,
		iceServers,
		iceTransportPolicy,
	};
}

export function plainTransportInfo(transport: ms.PlainTransport<TransportAppData>): ResponseData<'transport.createPlain'> {
	return {
		id: transport.id,
		direction: transport.appData.direction,
		ip: transport.tuple.localIp,
		port: transport.tuple.localPort,
		// NOTE: mediasoup's PlainTransport always has them once enableSrtp is set.
		srtpParameters: transport.srtpParameters as ms.SrtpParameters,
	};
}

export function consumerNew(consumer: ms.Consumer<ConsumerAppData>): ServerEventData<'consumer.new'> {
	return {
		consumerId: consumer.id,
		producerId: consumer.producerId,
		peerId: consumer.appData.producerPeerId,
		kind: consumer.kind,
		source: consumer.appData.source,
		rtpParameters: consumer.rtpParameters,
		type: consumer.type,
		producerPaused: consumer.producerPaused,
	};
}

/** The server event that tells a client a room's notice. */
export function serverEvent(notice: PeerNotice): ServerEvent {
	switch (notice.type) {
		case 'peerJoined':
			return ['peer.joined', { peer: peerInfo(notice.peer) }];
		case 'peerLeft':
			return ['peer.left', { peerId: notice.peerId }];
		case 'activeSpeaker':
			return ['room.activeSpeaker', { peerId: notice.peerId, producerId: notice.producerId }];
		case 'consumerClosed':
			return ['consumer.closed', { consumerId: notice.consumerId }];
		case 'consumerPaused':
			return ['consumer.paused', { consumerId: notice.consumerId }];
		case 'consumerResumed':
			return ['consumer.resumed', { consumerId: notice.consumerId }];
		case 'consumerLayersChanged':
			return ['consumer.layersChanged', { consumerId: notice.consumerId, layers: notice.layers ?? null }];
		case 'consumerScore':
			return ['consumer.score', { consumerId: notice.consumerId, score: notice.score }];
		case 'consumerQuality':
			return ['consumer.quality', { consumerId: notice.consumerId, quality: notice.quality }];
		case 'producerScore':
			return ['producer.score', { producerId: notice.producerId, scores: notice.scores }];
		case 'producerEncodings':
			return ['producer.encodings', { producerId: notice.producerId, active: notice.active }];
		case 'limitReached':
			return ['limit.exceeded', { code: 'limit_exceeded', limit: notice.limit, max: notice.max }];
		case 'reconnect':
			return ['session.reconnect', { reason: notice.reason }];
		case 'removed':
			return ['room.removed', { reason: notice.reason }];
		case 'producerMuted':
			return ['producer.muted', { producerId: notice.producerId, source: notice.source, muted: notice.muted, by: 'service' }];
		case 'producerClosed':
			return ['producer.closed', { producerId: notice.producerId, reason: notice.reason }];
		case 'permissions':
			return ['room.permissions', { canPublish: notice.canPublish, canSubscribe: notice.canSubscribe }];
		case 'peerUpdated':
			return ['peer.updated', { peerId: notice.peerId, metadata: notice.metadata }];
		case 'data':
			return ['room.data', { from: 'service', ...(notice.topic === undefined ? {} : { topic: notice.topic }), data: notice.data }];
	}
}

/**
 * Each call notification as its wire event (`call.*` and `link.*` of protocol.ts). NOTE:
 * one function per notification, so a payload that does not fit its event's
 * schema does not compile.
 */
const CALL_EVENTS: { [N in CallNotificationName]: (data: CallNotifications[N]) => ServerEvent } = {
	incoming: (data) => ['call.incoming', data],
	ringing: (data) => ['call.ringing', data],
	accepted: (data) => ['call.accepted', data],
	declined: (data) => ['call.declined', data],
	noAnswer: (data) => ['call.noAnswer', data],
	left: (data) => ['call.left', data],
	cancelled: (data) => ['call.cancelled', data],
	missed: (data) => ['call.missed', data],
	silenced: (data) => ['call.silenced', data],
	answeredElsewhere: (data) => ['call.answeredElsewhere', data],
	ended: (data) => ['call.ended', data],
	knock: (data) => ['link.knock', data],
	knockEnded: (data) => ['link.knockEnded', data],
};

/** The server event that tells a device the call notification `name`. */
export function callEvent<N extends CallNotificationName>(name: N, data: CallNotifications[N]): ServerEvent {
	return CALL_EVENTS[name](data);
}

/** The socket.io room of an account's devices, through which a fleet's nodes reach them wherever each is connected. */
export function userRoom(userId: string): string {
	return `user:${userId}`;
}
