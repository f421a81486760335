export { Peer, type PeerConnection, type TransportDirection } from './Peer';
export { Room, type CloseReason, type RoomEvents } from './Room';
export { RoomRegistry, type RoomRegistryEvents } from './RoomRegistry';
export { RoomRouter } from './RoomRouter';
