export { Peer, type PeerConnection, type PeerTransport, type TransportDirection } from './Peer';
export { Room, type CloseReason, type PlainTransportInfo, type PlainTransportOptions, type RoomEvents } from './Room';
export { RoomRegistry, type RoomRegistryEvents } from './RoomRegistry';
export { RoomRouter } from './RoomRouter';
