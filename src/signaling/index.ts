export * from './protocol';
export type { SignalingEvents } from './Session';
export { createSignalingServer, type SignalingDeps, type SignalingServer } from './SignalingServer';
/** Field schemas the HTTP API shares with the protocol: one rule for a handle, a name, a room id. */
export { displayName, handle, id, roomId } from './schemas';
