export { Peer, type PlainTransportOptions, type ProduceOptions } from './Peer';
export type { PeerLink, PeerNotice, PeerView } from './PeerLink';
export type { ProducerView, RoomProducer } from './RoomProducer';
export { Room, type CloseReason, type JoinOptions, type RoomEvents, type RoomObserverEvents, type WebRtcTransportOffer } from './Room';
export { RoomRegistry, type RoomRegistryEvents } from './RoomRegistry';
export { RoomRouter } from './RoomRouter';
export type { ConsumerAppData, NodePipeInfo, PeerLimit, PeerTransport, ProducerAppData, RoomConfig, Source, TransportAppData, TransportDirection } from './types';
export { FleetRooms, type RoomPlace } from './FleetRooms';
